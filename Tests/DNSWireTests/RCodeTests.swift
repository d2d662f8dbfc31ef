import DNSWire
import Foundation
import Testing

@Suite struct RCodeTests {
    /// RFC 6891 §6.1.3: the header carries the low 4 bits, the OPT's extended RCODE the high 8.
    @Test(arguments: [
        (RCode.noError, UInt8(0), UInt8(0)), (.nxDomain, 3, 0), (.notAuth, 9, 0), (.badVers, 0, 1),
        (.badCookie, 7, 1), (.badTime, 2, 1),
    ])
    func splitsIntoHeaderAndExtendedBits(code: RCode, header: UInt8, extended: UInt8) {
        #expect(code.header == header && code.extended == extended)
        #expect(RCode(header: header, extended: extended) == code)
    }

    @Test func headerBitsIgnoreTheRestOfTheByte() {
        // Byte 3 of a header also carries RA, Z, AD and CD.
        #expect(RCode(header: 0x83) == .nxDomain)
    }

    @Test(arguments: [
        (RCode.noError, "NOERROR"), (.formErr, "FORMERR"), (.servFail, "SERVFAIL"), (.nxDomain, "NXDOMAIN"),
        (.notImp, "NOTIMP"), (.refused, "REFUSED"), (.notAuth, "NOTAUTH"), (.badVers, "BADVERS"),
        (.badCookie, "BADCOOKIE"), (RCode(12), "RCODE12"), (RCode(4095), "RCODE4095"),
    ])
    func printsAsDigDoes(code: RCode, text: String) {
        #expect(code.description == text)
    }

    /// The admin API's `explain` sends `rcode` as its number.
    @Test func encodesAsItsNumber() throws {
        let json = try JSONEncoder().encode(["rcode": RCode.nxDomain])
        #expect(String(decoding: json, as: UTF8.self) == #"{"rcode":3}"#)
        let decoded = try JSONDecoder().decode([String: RCode].self, from: Data(#"{"rcode":23}"#.utf8))
        #expect(decoded == ["rcode": .badCookie])
    }

    /// A response's status joins the header and OPT bits: BADVERS is 0 in the header and 1 in the OPT.
    @Test func messageJoinsHeaderAndOPT() throws {
        var wire = try Message.query(name: try DomainName("example.com"), type: .a, edns: (1232, 0, false, []))
        wire[2] |= 0x80
        // The OPT's TTL field: extended RCODE, version, flags; the OPT is the last 11 bytes.
        wire[wire.count - 11 + 5] = 1
        let message = try Message(wire: wire)
        #expect(message.rcode == .noError)
        #expect(message.fullRcode == .badVers)
    }
}
