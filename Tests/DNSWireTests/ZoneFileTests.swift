import DNSWire
import Testing

@Suite struct ZoneFileTests {
    static let good = """
        $ORIGIN example.org.
        $TTL 300
        @   IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 60
            IN NS ns1
        ns1 IN A 192.0.2.1
        www IN CNAME web
        web 60 IN A 192.0.2.10
        web IN A 192.0.2.10
        mail IN MX 10 Web
        *.wild IN TXT "hello" "world"

        """

    @Test func readsRecordsWithLinesAndCompressionPoints() throws {
        let (zone, errors) = ZoneFile.parse(Self.good, origin: try DomainName("example.org"))
        #expect(errors.isEmpty)
        let z = try #require(zone)
        // The duplicate A record (same data, other TTL) is dropped: an RRset holds each record once.
        #expect(z.records.count == 7)
        #expect(z.records.map(\.type) == [.soa, .ns, .a, .cname, .a, .mx, .txt])
        #expect(z.lines == [3, 4, 5, 6, 7, 9, 10])
        let mx = z.records[5]
        #expect(mx.compressibleNames == [2])
        #expect(mx.targetName == (try DomainName("web.example.org")))
        #expect(mx.targetName?.wire == (try DomainName("Web.example.org")).wire)
        #expect(z.records[4].ttl == 60)
        #expect(z.records[6].owner.isWildcard)
        // TXT rdata is two character-strings, not compressible.
        #expect(z.records[6].rdata == [5] + Array("hello".utf8) + [5] + Array("world".utf8))
        #expect(z.records[6].compressibleNames.isEmpty)
    }

    @Test(arguments: [
        ("@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nfoo IN A 999.1.1.1\n", 3, "rdata"),
        ("@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nfoo IN CNAME a\nfoo IN A 192.0.2.1\n", 4, "CNAME and other data"),
        ("@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nwww.other.net. IN A 192.0.2.1\n", 3, "outside the zone"),
        ("@ IN NS ns1\nfoo IN A 192.0.2.1\n", nil, "no SOA"),
        ("@ IN SOA ns1 h 1 2 3 4 5\nfoo IN A 192.0.2.1\n", nil, "no NS"),
        ("@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\n\n\nfoo IN BOGUS 1\n", 5, ""),
        ("@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\n$INCLUDE other.zone\n", 3, "$INCLUDE"),
        ("@ IN SOA ns1 h 1 2 3 4 5\n@ IN NS ns1\nfoo CH A 192.0.2.1\n", 3, "class IN"),
    ] as [(String, Int?, String)])
    func reportsErrorsWithLines(text: String, line: Int?, fragment: String) throws {
        let (zone, errors) = ZoneFile.parse(text, origin: try DomainName("example.org"), name: "t.zone")
        #expect(zone == nil)
        let first = try #require(errors.first)
        #expect(first.line == line, "\(errors)")
        #expect(first.file == "t.zone")
        #expect(fragment.isEmpty || first.message.contains(fragment), "\(first)")
    }

    @Test func missingFileIsAClearError() {
        let (zone, errors) = ZoneFile.read(path: "/nonexistent/x.zone")
        #expect(zone == nil)
        #expect(errors.first?.message.contains("cannot open zone file") == true)
    }
}

@Suite struct DomainNameTests {
    @Test func parsesAndPrints() throws {
        let name = try DomainName("Www.Example.COM.")
        #expect(name.wire == [3, 87, 119, 119, 7] + Array("Example".utf8) + [3] + Array("COM".utf8) + [0])
        #expect(name == (try DomainName("www.example.com")))
        #expect(name.description == "Www.Example.COM.")
        #expect(name.labelCount == 3)
        #expect(name.parent == (try DomainName("example.com.")))
        #expect(try DomainName("a\\.b.c").labelCount == 2)
        #expect(try DomainName("\\065.c").description == "A.c.")
    }

    @Test(arguments: ["a..b", String(repeating: "x", count: 64) + ".com", Array(repeating: "abcdefghi", count: 26).joined(separator: "."), "a\\"])
    func rejectsBadNames(_ text: String) {
        #expect(throws: WireError.self) { try DomainName(text) }
    }

    @Test func subdomainIsLabelAligned() throws {
        #expect(try DomainName("a.example.com").isSubdomain(of: DomainName("EXAMPLE.com")))
        #expect(try !DomainName("aexample.com").isSubdomain(of: DomainName("example.com")))
        #expect(try DomainName("example.com").isSubdomain(of: DomainName(".")))
    }

    @Test func wireFormValidation() throws {
        #expect(throws: WireError.self) { try DomainName(wire: [64] + Array(repeating: 97, count: 64) + [0]) }
        #expect(throws: WireError.self) { try DomainName(wire: [1, 97]) }
        #expect(try DomainName(wire: [1, 97, 0]).description == "a.")
    }
}
