import DNSServer
import NIOCore
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
        ("127.0.0.1", "expected HOST:PORT (example: 127.0.0.1:5300)"),
        ("::1:53", "put an IPv6 address in brackets (example: [::1]:5300)"),
        ("[::1:53", "missing \"]\""),
        ("[::1]53", "expected \":PORT\" after \"]\""),
        ("127.0.0.1:", "is not a number from 0 to 65535"),
        ("127.0.0.1:http", "is not a number from 0 to 65535"),
        ("127.0.0.1:70000", "port \"70000\" is not a number from 0 to 65535"),
        ("127.0.0.1:٥٣", "is not a number from 0 to 65535"),
        ("localhost:53", "\"localhost\" is not an IP address (host names are not resolved here)"),
        ("[127.0.0.1x]:53", "is not an IP address"),
        ("", "expected HOST:PORT"),
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

    @Test(arguments: [
        ("127.0.0.1:53", true), ("127.8.9.10:53", true), ("[::1]:53", true), ("[0:0:0:0:0:0:0:1]:53", true),
        ("0.0.0.0:53", false), ("10.0.0.1:53", false), ("[::]:53", false), ("[::2]:53", false),
        ("[2001:db8::1]:53", false),
    ])
    func loopback(text: String, loopback: Bool) throws {
        #expect(try ListenAddress(parsing: text).isLoopback == loopback)
    }

    @Test func builtInDefaultsAreTheAddressesTheyName() throws {
        #expect(ListenAddress(ipv4: 127, 0, 0, 1, port: 5300) == (try ListenAddress(parsing: "127.0.0.1:5300")))
        #expect(ListenAddress(ipv4: 0, 0, 0, 0, port: 8443).description == "0.0.0.0:8443")
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

/// The address is read once (by MCDNSModel's IPAddress) and the socket address is made from its bytes.
@Suite struct ListenAddressBytesTests {
    @Test func theHostIsTheCanonicalTextAndTheSocketAddressHoldsTheBytes() throws {
        let v6 = try ListenAddress(parsing: "[2001:DB8:0::1]:5300")
        #expect(v6.host == "2001:db8::1")
        #expect(v6.description == "[2001:db8::1]:5300")
        #expect(v6 == (try ListenAddress(parsing: "[2001:db8::1]:5300")))
        #expect(v6.socketAddress.ipAddress == "2001:db8::1")
        #expect(v6.socketAddress.port == 5300)
        let v4 = try ListenAddress(parsing: "192.0.2.7:53")
        #expect(v4.socketAddress.ipAddress == "192.0.2.7")
        #expect(v4.socketAddress.port == 53)
        #expect(!v4.isLoopback && !v6.isLoopback)
        #expect(try ListenAddress(parsing: "127.8.9.10:53").isLoopback)
        #expect(try ListenAddress(parsing: "[::1]:53").isLoopback)
        #expect(try !ListenAddress(parsing: "[::2]:53").isLoopback)
    }
}
