@testable import DNSAnswer
import DNSWire
import Testing

/// Compiled answers keep 16-bit lengths (issue 3's memory goal), so an answer that cannot fit in a DNS message
/// must be refused at compile time with the name that made it, never stored cut or trapped on.
@Suite struct AnswerSizeLimitTests {
    func compile(_ text: String) throws -> AnswerTable {
        let (zone, errors) = ZoneFile.parse(text, origin: try DomainName("example.com"))
        return try AnswerTable.compile(zones: [try #require(zone, "\(errors)")], serial: 1)
    }

    static let head = """
        $ORIGIN example.com.
        @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 60
        @ 300 IN NS ns1
        ns1 300 IN A 192.0.2.1

        """

    @Test func aTemplateEntryTakesThirtyTwoBytes() {
        #expect(MemoryLayout<TemplateEntry>.stride == 32)
    }

    @Test func anRRsetLargerThanAMessageIsRefusedByName() throws {
        // 5,000 A records: 80,000 bytes of answer.
        var text = Self.head
        for i in 0..<5_000 { text += "big 300 IN A 10.\(i / 65536).\(i / 256 % 256).\(i % 256)\n" }
        #expect(throws: CompileError.answerTooLarge(try DomainName("big.example.com"), .a)) { try compile(text) }
        // Just under the limit compiles, and answers over TCP in full.
        var fits = Self.head
        for i in 0..<3_000 { fits += "big 300 IN A 10.\(i / 65536).\(i / 256 % 256).\(i % 256)\n" }
        let table = try compile(fits)
        #expect(try table.ask("big.example.com", .a, transport: .tcp).answer.count == 3_000)
    }

    @Test func aReferralLargerThanAMessageIsRefusedByItsCut() throws {
        // 2,000 NS records of 40-byte names below the cut, each with glue: far past 65,535 bytes.
        var text = Self.head
        for i in 0..<2_000 {
            text += "sub 300 IN NS ns\(i)-a-rather-long-label-for-size.sub\n"
            text += "ns\(i)-a-rather-long-label-for-size.sub 300 IN A 10.1.\(i / 256).\(i % 256)\n"
        }
        #expect(throws: CompileError.answerTooLarge(try DomainName("sub.example.com"), .ns)) { try compile(text) }
    }
}
