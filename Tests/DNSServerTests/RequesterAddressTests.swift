import DNSAnswer
import NIOCore
import Testing

@testable import DNSServer

/// The TCP peer address in the numeric form the responder's subnet match reads.
@Suite struct RequesterAddressTests {
    @Test func ipv4() throws {
        let address = try SocketAddress(ipAddress: "10.1.2.3", port: 5353)
        #expect(RequesterAddress(address) == .ipv4(0x0A01_0203))
    }

    @Test func ipv6() throws {
        let address = try SocketAddress(ipAddress: "2001:db8::1:2", port: 5353)
        #expect(RequesterAddress(address) == .ipv6(0x2001_0DB8_0000_0000, 0x0000_0000_0001_0002))
    }

    @Test func ipv4MappedIPv6IsMatchedAsIPv4() throws {
        let address = try SocketAddress(ipAddress: "::ffff:10.3.7.1", port: 5353)
        #expect(RequesterAddress(address) == .ipv4(0x0A03_0701))
    }

    @Test func noAddress() throws {
        #expect(RequesterAddress(nil) == .unknown)
        #expect(RequesterAddress(try SocketAddress(unixDomainSocketPath: "/tmp/x")) == .unknown)
    }
}
