import DNSServer
import Testing

@Suite struct ListenAddressTests {
    @Test(arguments: [
        ("127.0.0.1:5300", "127.0.0.1", 5300, "127.0.0.1:5300"),
        ("0.0.0.0:53", "0.0.0.0", 53, "0.0.0.0:53"),
        ("[::1]:53", "::1", 53, "[::1]:53"),
        ("[2001:db8::1]:0", "2001:db8::1", 0, "[2001:db8::1]:0"),
    ])
    func parses(text: String, host: String, port: Int, description: String) throws {
        let address = try ListenAddress(parsing: text)
        #expect(address.host == host)
        #expect(address.port == port)
        #expect(address.description == description)
    }

    @Test(arguments: [
        ("127.0.0.1", "has no port"),
        ("::1:53", "looks like IPv6 without brackets"),
        ("[::1:53", "no closing"),
        ("[::1]53", "no \":PORT\""),
        ("127.0.0.1:", "no numeric port"),
        ("127.0.0.1:http", "no numeric port"),
        ("127.0.0.1:70000", "out of range"),
        ("localhost:53", "not an IPv4 or IPv6 address literal"),
        ("[127.0.0.1x]:53", "not an IPv4 or IPv6 address literal"),
        ("", "has no port"),
    ])
    func rejects(text: String, reason: String) {
        #expect {
            _ = try ListenAddress(parsing: text)
        } throws: { error in
            guard let error = error as? DNSServerConfigurationError else { return false }
            // The message names the bad input and says how to write a good one.
            return error.message.contains(reason) && error.message.contains("\"\(text)\"")
        }
    }

    @Test func configurationFromStrings() throws {
        let configuration = try DNSServerConfiguration(listen: ["127.0.0.1:5300", "[::1]:5300"])
        #expect(configuration.listen.map(\.description) == ["127.0.0.1:5300", "[::1]:5300"])
        #expect(configuration.udpThreadsPerAddress >= 1)
        #expect(configuration.tcpIdleTimeout == .seconds(10))
    }

    @Test func configurationRejectsBadSettings() {
        #expect(throws: DNSServerConfigurationError.self) { try DNSServerConfiguration(listen: [String]()) }
        #expect(throws: DNSServerConfigurationError.self) {
            try DNSServerConfiguration(listen: ["127.0.0.1:53", "127.0.0.1:53"])
        }
        #expect(throws: DNSServerConfigurationError.self) {
            try DNSServerConfiguration(listen: ["127.0.0.1:53"], udpThreadsPerAddress: 0)
        }
        #expect(throws: DNSServerConfigurationError.self) {
            try DNSServerConfiguration(listen: ["127.0.0.1:53"], tcpIdleTimeout: .zero)
        }
        #expect(throws: DNSServerConfigurationError.self) {
            try DNSServerConfiguration(listen: ["127.0.0.1:53"], tcpIdleTimeout: .seconds(1), maxTCPConnections: 0)
        }
        #expect(throws: DNSServerConfigurationError.self) { try TCPLimits(messageTimeout: .zero) }
        #expect(throws: DNSServerConfigurationError.self) { try TCPLimits(maxConnectionsPerSource: 0) }
        #expect(throws: DNSServerConfigurationError.self) { try TCPLimits(maxPipelined: 0) }
        #expect(throws: DNSServerConfigurationError.self) { try DNSServerConfiguration(listen: ["nonsense"]) }
    }
}
