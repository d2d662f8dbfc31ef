import DNSAnswer
import DNSWire
import Foundation
import Testing

/// A case reads like a zone file answer: query → rcode, AA, and the records of each section.
struct Case: CustomTestStringConvertible, Sendable {
    var name: String
    var type: RRType
    var rcode: RCode
    var aa: Bool = true
    var answer: [String] = []
    var authority: [String] = []
    var additional: [String] = []
    var testDescription: String { "\(name) \(type)" }
}

let soaExample = "example.com.\t60\tIN\tSOA\tns1.example.com. hostmaster.example.com. 2024010101 7200 3600 1209600 60"

let cases: [Case] = [
    Case(name: "www.example.com", type: .a, rcode: .noError, answer: ["www.example.com.\t300\tIN\tA\t192.0.2.80"]),
    Case(name: "WWW.Example.COM", type: .aaaa, rcode: .noError, answer: ["WWW.Example.COM.\t300\tIN\tAAAA\t2001:db8::80"]),
    Case(name: "www.example.com", type: .txt, rcode: .noError, authority: [soaExample]),
    Case(name: "nope.example.com", type: .a, rcode: .nxDomain, authority: [soaExample]),
    Case(name: "b.c.example.com", type: .a, rcode: .noError, authority: [soaExample]),  // empty non-terminal: NODATA
    Case(name: "c.example.com", type: .a, rcode: .noError, authority: [soaExample]),
    Case(name: "example.com", type: .soa, rcode: .noError, answer: [soaExample.replacingOccurrences(of: "\t60\tIN\tSOA", with: "\t300\tIN\tSOA")]),
    Case(name: "example.com", type: .ns, rcode: .noError,
         answer: ["example.com.\t300\tIN\tNS\tns1.example.com.", "example.com.\t300\tIN\tNS\tns2.elsewhere.net."],
         additional: ["ns1.example.com.\t300\tIN\tA\t192.0.2.1"]),
    Case(name: "example.com", type: .mx, rcode: .noError, answer: ["example.com.\t300\tIN\tMX\t10 mail.example.com."],
         additional: ["mail.example.com.\t300\tIN\tA\t192.0.2.25"]),
    Case(name: "alias.example.com", type: .a, rcode: .noError,
         answer: ["alias.example.com.\t300\tIN\tCNAME\twww.example.com.", "www.example.com.\t300\tIN\tA\t192.0.2.80"]),
    Case(name: "chain.example.com", type: .aaaa, rcode: .noError,
         answer: ["chain.example.com.\t300\tIN\tCNAME\talias.example.com.", "alias.example.com.\t300\tIN\tCNAME\twww.example.com.",
                  "www.example.com.\t300\tIN\tAAAA\t2001:db8::80"]),
    Case(name: "chain.example.com", type: .mx, rcode: .noError,
         answer: ["chain.example.com.\t300\tIN\tCNAME\talias.example.com.", "alias.example.com.\t300\tIN\tCNAME\twww.example.com."],
         authority: [soaExample]),
    Case(name: "alias.example.com", type: .cname, rcode: .noError, answer: ["alias.example.com.\t300\tIN\tCNAME\twww.example.com."]),
    Case(name: "out.example.com", type: .a, rcode: .noError, answer: ["out.example.com.\t300\tIN\tCNAME\twww.elsewhere.net."]),
    Case(name: "dangle.example.com", type: .a, rcode: .nxDomain,
         answer: ["dangle.example.com.\t300\tIN\tCNAME\tnothing.example.com."], authority: [soaExample]),
    Case(name: "loop1.example.com", type: .a, rcode: .noError,
         answer: ["loop1.example.com.\t300\tIN\tCNAME\tloop2.example.com.", "loop2.example.com.\t300\tIN\tCNAME\tloop1.example.com."]),
    Case(name: "anything.wild.example.com", type: .a, rcode: .noError, answer: ["anything.wild.example.com.\t300\tIN\tA\t192.0.2.99"]),
    Case(name: "Deep.Er.wild.example.com", type: .txt, rcode: .noError, answer: ["Deep.Er.wild.example.com.\t300\tIN\tTXT\t\"wild\""]),
    Case(name: "q.wild.example.com", type: .mx, rcode: .noError, authority: [soaExample]),
    Case(name: "x.wild.example.com", type: .a, rcode: .noError, answer: ["x.wild.example.com.\t300\tIN\tA\t192.0.2.100"]),
    Case(name: "x.wild.example.com", type: .txt, rcode: .noError, authority: [soaExample]),  // an existing name blocks the wildcard
    Case(name: "y.x.wild.example.com", type: .a, rcode: .nxDomain, authority: [soaExample]),
    Case(name: "*.wild.example.com", type: .a, rcode: .noError, answer: ["*.wild.example.com.\t300\tIN\tA\t192.0.2.99"]),
    Case(name: "foo.wc.example.com", type: .a, rcode: .noError,
         answer: ["foo.wc.example.com.\t300\tIN\tCNAME\twww.example.com.", "www.example.com.\t300\tIN\tA\t192.0.2.80"]),
    Case(name: "sub.example.com", type: .a, rcode: .noError, aa: false,
         authority: ["sub.example.com.\t300\tIN\tNS\tns1.sub.example.com.", "sub.example.com.\t300\tIN\tNS\tns.elsewhere.net."],
         additional: ["ns1.sub.example.com.\t300\tIN\tA\t192.0.2.53"]),
    Case(name: "deep.in.sub.example.com", type: .aaaa, rcode: .noError, aa: false,
         authority: ["sub.example.com.\t300\tIN\tNS\tns1.sub.example.com.", "sub.example.com.\t300\tIN\tNS\tns.elsewhere.net."],
         additional: ["ns1.sub.example.com.\t300\tIN\tA\t192.0.2.53"]),
    Case(name: "ns1.sub.example.com", type: .a, rcode: .noError, aa: false,
         authority: ["sub.example.com.\t300\tIN\tNS\tns1.sub.example.com.", "sub.example.com.\t300\tIN\tNS\tns.elsewhere.net."],
         additional: ["ns1.sub.example.com.\t300\tIN\tA\t192.0.2.53"]),
    Case(name: "sub.example.com", type: .ds, rcode: .noError, authority: [soaExample]),
    Case(name: "www.example.com", type: .any, rcode: .noError, answer: ["www.example.com.\t300\tIN\tA\t192.0.2.80"]),
    Case(name: "alias.example.com", type: .any, rcode: .noError, answer: ["alias.example.com.\t300\tIN\tCNAME\twww.example.com."]),
    Case(name: "b.c.example.com", type: .any, rcode: .noError, authority: [soaExample]),
    Case(name: "_http._tcp.example.com", type: .srv, rcode: .noError,
         answer: ["_http._tcp.example.com.\t300\tIN\tSRV\t0 5 80 www.example.com."],
         additional: ["www.example.com.\t300\tIN\tA\t192.0.2.80", "www.example.com.\t300\tIN\tAAAA\t2001:db8::80"]),
    Case(name: "dns-version.clusterset.local", type: .txt, rcode: .noError,
         answer: ["dns-version.clusterset.local.\t30\tIN\tTXT\t\"1.0.0\""]),
    Case(name: "web.shop.svc.clusterset.local", type: .a, rcode: .nxDomain,
         authority: ["clusterset.local.\t5\tIN\tSOA\tns.clusterset.local. hostmaster.clusterset.local. 1 7200 3600 1209600 5"]),
    Case(name: "www.example.org", type: .a, rcode: .refused, aa: false),
    Case(name: "com", type: .ns, rcode: .refused, aa: false),
    Case(name: "example.com", type: .axfr, rcode: .refused, aa: false),
]

@Suite struct AnswerTableTests {
    let table: AnswerTable

    init() throws { table = try Fixture.table() }

    @Test(arguments: cases)
    func answersLikeAZoneFileSays(_ c: Case) throws {
        for transport in [Transport.udp, .tcp] {
            let m = try table.ask(c.name, c.type, transport: transport)
            #expect(m.id == 0xBEEF)
            #expect(m.qr)
            #expect(m.rcode == c.rcode, "\(c.name) \(c.type) rcode")
            #expect(m.aa == c.aa, "\(c.name) \(c.type) AA")
            #expect(!m.tc)
            #expect(m.question.count == 1)
            #expect(m.answer.sorted() == c.answer.sorted(), "\(c.name) \(c.type) answer")
            #expect(m.authority.sorted() == c.authority.sorted(), "\(c.name) \(c.type) authority")
            #expect(m.additional.sorted() == c.additional.sorted(), "\(c.name) \(c.type) additional")
        }
    }

    @Test func questionIsEchoedByteForByte() throws {
        let query = try Message.query(name: try DomainName("wWw.ExAmPlE.cOm"), type: .a)
        let response = table.respond(raw: query)
        #expect(Array(response[12..<(query.count)]) == Array(query[12...]))
        // The answer's owner is a pointer to the question, so it carries the asker's case too.
        #expect(try Message(wire: response).answer == ["wWw.ExAmPlE.cOm.\t300\tIN\tA\t192.0.2.80"])
    }

    @Test func ednsIsEchoedAndBadVersionIsRefused() throws {
        let m = try table.ask("www.example.com", .a, edns: (4096, 0, true, []))
        #expect(m.edns?.udpSize == 1232)
        #expect(m.edns?.dnssecOK == true)
        #expect(m.edns?.version == 0)
        let bad = try table.ask("www.example.com", .a, edns: (1232, 1, false, []))
        #expect(bad.fullRcode == .badVers)
        #expect(bad.edns?.version == 0)
        #expect(bad.answer.isEmpty)
        let plain = try table.ask("www.example.com", .a)
        #expect(plain.edns == nil)
    }

    @Test func truncatesOverUDPAndAnswersInFullOverTCP() throws {
        let small = try table.ask("big.example.com", .txt)
        #expect(small.tc)
        #expect(small.answer.isEmpty)
        let edns = try table.ask("big.example.com", .txt, edns: (1232, 0, false, []))
        #expect(!edns.tc)
        #expect(edns.answer.count == 3)
        let tcp = try table.ask("big.example.com", .txt, transport: .tcp)
        #expect(!tcp.tc)
        #expect(tcp.answer.count == 3)
    }

    @Test func optionalAdditionalRecordsAreDroppedBeforeTruncating() throws {
        let options = ServingOptions(maxUDPPayload: 512)
        let table = try Fixture.table(options: options)
        let m = try table.ask("_http._tcp.example.com", .srv, edns: (512, 0, false, []))
        #expect(!m.tc)
        #expect(m.answer.count == 1)
    }

    @Test func negativeTTLIsTheSOAMinimum() throws {
        let m = try table.ask("nope.example.com", .a)
        #expect(m.authority.first?.contains("\t60\tIN\tSOA") == true)
    }
}
