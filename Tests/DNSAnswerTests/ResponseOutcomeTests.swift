import DNSAnswer
import DNSTestSupport
import DNSWire
import Testing

/// The class and bucket name key `respond` reports for the rate limiter, per BIND's and Knot's RRL: answers and
/// NODATA keyed by the query name, NXDOMAIN by the zone, wildcards by the wildcard, referrals by the cut.
@Suite struct ResponseOutcomeTests {
    static func outcome(_ table: AnswerTable, _ name: String, _ type: RRType = .a) throws -> ResponseOutcome {
        let query = try WireQuery.make(id: 1, name: name, type: type)
        var output = [UInt8](repeating: 0, count: 65535)
        var qtype = RRType.reserved
        var outcome = ResponseOutcome()
        _ = query.withUnsafeBytes { input in
            output.withUnsafeMutableBytes {
                table.respond(to: input, transport: .udp, source: .ipv4(0x0A00_0001), into: $0, qtype: &qtype,
                              outcome: &outcome, cookies: .disabled)
            }
        }
        return outcome
    }

    @Test(arguments: [
        ("www.example.com", RRType.a, ResponseClass.answer),
        ("WWW.Example.COM", .a, .answer),
        ("www.example.com", .txt, .noData),
        ("nothing.example.com", .a, .nxDomain),
        ("b.c.example.com", .a, .noData),  // an empty non-terminal
        ("anything.wild.example.com", .a, .wildcard),
        ("anything.wild.example.com", .aaaa, .wildcard),  // wildcard NODATA
        ("x.wild.example.com", .a, .answer),
        ("host.sub.example.com", .a, .referral),
        ("www.elsewhere.net", .a, .error),  // REFUSED: not a served zone
        ("www.example.com", .axfr, .error),  // AXFR over UDP: REFUSED
    ])
    func classes(name: String, type: RRType, expected: ResponseClass) throws {
        #expect(try Self.outcome(try Fixture.table(), name, type).responseClass == expected)
    }

    @Test func nameKeysGroupAsBINDAndKnotDo() throws {
        let table = try Fixture.table()
        // The query name, in any case.
        #expect(try Self.outcome(table, "www.example.com").nameKey == Self.outcome(table, "WWW.EXAMPLE.com").nameKey)
        #expect(try Self.outcome(table, "www.example.com").nameKey != Self.outcome(table, "mail.example.com").nameKey)
        // Random names under one zone share the zone's NXDOMAIN bucket; another zone has its own.
        let nx = try Self.outcome(table, "random1.example.com").nameKey
        #expect(try Self.outcome(table, "other.random2.example.com").nameKey == nx)
        #expect(try Self.outcome(table, "random1.clusterset.local").nameKey != nx)
        // Names a wildcard answers share its bucket; names below one cut share the referral's.
        #expect(try Self.outcome(table, "a.wild.example.com").nameKey == Self.outcome(table, "b.wild.example.com").nameKey)
        #expect(try Self.outcome(table, "a.sub.example.com").nameKey == Self.outcome(table, "b.c.sub.example.com").nameKey)
        // Every error shares one bucket.
        #expect(try Self.outcome(table, "www.elsewhere.net").nameKey == 0)
    }

    /// The zone each kind of answer came from, as an index into `zoneOrigins` (what /metrics counts by zone).
    @Test func zoneIsTheZoneThatAnswered() throws {
        let table = try Fixture.table()
        let example = try #require(table.zoneOrigins.firstIndex { $0.description == "example.com." })
        let clusterset = try #require(table.zoneOrigins.firstIndex { $0.description == "clusterset.local." })
        for name in [
            "www.example.com", "nothing.example.com", "anything.wild.example.com", "host.sub.example.com",
            "b.c.example.com",
        ] {
            #expect(try Self.outcome(table, name).zone == example, "\(name)")
        }
        #expect(try Self.outcome(table, "random1.clusterset.local").zone == clusterset)
        #expect(try Self.outcome(table, "www.elsewhere.net").zone == -1)
        #expect(try Self.outcome(table, "www.example.com", .axfr).zone == -1)
    }
}
