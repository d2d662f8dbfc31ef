import Foundation
import MCDNSModel
import Testing

/// The one address type: what inet_pton accepts, the canonical text inet_ntop writes, and JSON as that text.
@Suite struct IPAddressTests {
    @Test(arguments: [
        ("10.1.2.3", "10.1.2.3", IPAddress.Family.v4, [10, 1, 2, 3] as [UInt8]),
        ("0.0.0.0", "0.0.0.0", .v4, [0, 0, 0, 0]),
        ("255.255.255.255", "255.255.255.255", .v4, [255, 255, 255, 255]),
        ("2001:DB8::1", "2001:db8::1", .v6, [0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]),
        ("FD00:0003:0:0::11", "fd00:3::11", .v6, [0xfd, 0, 0, 3] + Array(repeating: 0, count: 11) + [0x11]),
        ("0:0:0:0:0:0:0:1", "::1", .v6, Array(repeating: 0, count: 15) + [1]),
        ("::", "::", .v6, Array(repeating: 0, count: 16)),
        ("0001::", "1::", .v6, [0, 1] + Array(repeating: 0, count: 14)),
        ("::ffff:1.2.3.4", "::ffff:1.2.3.4", .v6, Array(repeating: 0, count: 10) + [0xff, 0xff, 1, 2, 3, 4]),
    ])
    func readsAnAddressAndWritesItsCanonicalText(text: String, canonical: String, family: IPAddress.Family,
                                                 bytes: [UInt8]) throws {
        let address = try IPAddress(parsing: text)
        #expect(address.description == canonical)
        #expect(address.family == family)
        #expect(address.bytes == bytes)
        #expect(address.byteCount == bytes.count)
        #expect(IPAddress(bytes: bytes) == address)
        #expect(try IPAddress(parsing: canonical) == address)
        #expect(IPAddress(canonical, family: family) == address)
        #expect(IPAddress(canonical, family: family == .v4 ? .v6 : .v4) == nil)
    }

    @Test(arguments: [
        "", " ", "junk", "10.0.0.256", "10.0.0", "10.0.0.1.2", "010.0.0.1", "10.0.0.1 ", " 10.0.0.1", "1.2.3.4/32",
        "fe80::1%eth0", "fe80::1%1", "2001:db8:::1", "2001:db8::1::2", "12345::", "::g", "[::1]", "10.0.0.1\u{0}junk",
        "1:2:3:4:5:6:7:8:9",
    ])
    func refusesWhatInetPtonRefuses(text: String) {
        #expect(IPAddress(text) == nil)
        #expect(throws: IPAddress.ParseError(text: text, family: nil)) { try IPAddress(parsing: text) }
    }

    @Test func theErrorNamesTheTextAndTheFamily() {
        #expect(IPAddress.ParseError(text: "x", family: nil).description == "\"x\" is not an IPv4 or IPv6 address")
        #expect(IPAddress.ParseError(text: "::1", family: .v4).description == "\"::1\" is not an IPv4 address")
        #expect(throws: IPAddress.ParseError(text: "::1", family: .v4)) { try IPAddress(parsing: "::1", family: .v4) }
    }

    @Test func theMappedIPv6AddressIsNotTheIPv4One() throws {
        let mapped = try IPAddress(parsing: "::ffff:1.2.3.4")
        let v4 = try IPAddress(parsing: "1.2.3.4")
        #expect(mapped != v4)
        #expect(Set([mapped, v4]).count == 2)
        #expect(IPAddress(bytes: [1, 2, 3]) == nil)
        #expect(IPAddress(ipv4: 1, 2, 3, 4) == v4)
    }

    @Test func encodesAsItsCanonicalText() throws {
        let addresses: [IPAddress] = ["2001:DB8::1", "10.0.0.1", "::ffff:1.2.3.4"]
        let json = String(decoding: try JSONEncoder().encode(addresses), as: UTF8.self)
        #expect(json == #"["2001:db8::1","10.0.0.1","::ffff:1.2.3.4"]"#)
        #expect(try JSONDecoder().decode([IPAddress].self, from: Data(json.utf8)) == addresses)
        // A writer that kept non-canonical text still reads back as the same address.
        #expect(try JSONDecoder().decode([IPAddress].self, from: Data(#"["2001:DB8:0::1"]"#.utf8)) == ["2001:db8::1"])
    }

    @Test(arguments: [#"["junk"]"#, #"[""]"#, #"["fe80::1%eth0"]"#, "[7]"])
    func decodingSomethingElseFailsWithAClearMessage(json: String) {
        do {
            _ = try JSONDecoder().decode([IPAddress].self, from: Data(json.utf8))
            Issue.record("\(json) decoded")
        } catch DecodingError.dataCorrupted(let context) {
            #expect(context.debugDescription.hasSuffix("is not an IPv4 or IPv6 address"), "\(context.debugDescription)")
        } catch DecodingError.typeMismatch {
            #expect(json == "[7]")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test func anEndpointStaysThirtyTwoBytes() {
        #expect(MemoryLayout<IPAddress>.size == 17)
        #expect(MemoryLayout<Endpoint>.stride == 32)
    }
}
