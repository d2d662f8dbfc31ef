import DNSTestSupport
import Foundation
import Testing

/// Issue 20 through a real resolver: unbound with a stub zone for example.com pointing at `mcdns serve` (the
/// demo members), as a member's cluster DNS would be set up. What a cache does to each policy:
/// - failover survives caching: the switch reaches unbound's clients within the propagation bound plus the TTL;
/// - a cached answer keeps one order for its TTL, so a rotated or weighted spread shows across TTL periods, not
///   within one; unbound 1.17 with its default `rrset-roundrobin: yes` handed every client the order it fetched
///   too (the README's advice says what that means for TTLs).
@Suite(.serialized) struct TrafficPolicyThroughUnboundTests {
    let g = "web.shop.acme.svc.example.com"
    typealias E2E = TrafficPolicyEndToEndTests

    /// Puts `ttl` seconds on the web Service of every member (the `mcdns.io/ttl` annotation).
    static func setTTL(_ members: TemporaryDirectory, _ ttl: Int) throws {
        for cluster in ["east-1", "east-2", "west-1"] {
            let file = members.url.appendingPathComponent("\(cluster)/web.yaml")
            let text = try String(contentsOf: file, encoding: .utf8)
            let old = "    mcdns.io/export: \"true\"\n"
            #expect(text.contains(old), "\(cluster)/web.yaml no longer exports by annotation")
            try text.replacingOccurrences(of: old, with: old + "    mcdns.io/ttl: \"\(ttl)\"\n")
                .write(to: file, atomically: true, encoding: .utf8)
        }
    }

    static func unbound(_ port: UInt16, roundRobin: Bool) throws -> UnboundProcess {
        try UnboundProcess.start(stubZones: ["example.com"], authorityPort: port, probeName: "readiness-probe.example.com",
                                 extraServerOptions: roundRobin ? [] : ["rrset-roundrobin: no"])
    }

    /// The first A record of the answer in the order the server sent it (`Dig`'s summary sorts RRsets).
    static func first(_ port: UInt16, _ name: String) throws -> String? {
        let output = try ProcessRunner.run(try ProcessRunner.locate("dig", package: "dnsutils"),
                                           ["@127.0.0.1", "-p", "\(port)", "+time=2", "+tries=1", "+short", name, "A"],
                                           timeout: .seconds(10))
        return output.stdout.split(separator: "\n").map(String.init).first { !$0.hasPrefix(";") }
    }

    @Test func failoverReachesTheResolversClientsWithinTheBoundPlusTheTTL() throws {
        let (members, process, direct) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try E2E.annotate(members, "failover: west-1, us-east-1")
        try Self.setTTL(members, 2)
        _ = try LiveRecordsEndToEndTests.waitFor(direct, g, "A", within: .seconds(5)) { $0 == [E2E.west1] }
        let unbound = try Self.unbound(process.port, roundRobin: true)
        defer { unbound.stop() }
        let resolver = try Dig(port: unbound.port, timeoutSeconds: 4)
        #expect(try LiveRecordsEndToEndTests.rdata(resolver, g, "A") == [E2E.west1])
        // The resolver keeps the answer for at most its TTL.
        let cached = try #require(try resolver.query(g, "A")?.answer.first { $0.type == "A" })
        #expect(cached.ttl <= 2, "\(cached)")

        // west-1 turns unready: mcdns switches within its bound (2 s), unbound's clients within that plus the TTL.
        let west = members.url.appendingPathComponent("west-1/web.yaml")
        let original = try String(contentsOf: west, encoding: .utf8)
        try original.replacingOccurrences(of: "conditions: { ready: true }", with: "conditions: { ready: false }")
            .write(to: west, atomically: true, encoding: .utf8)
        let failed = try LiveRecordsEndToEndTests.waitFor(resolver, g, "A", within: .seconds(8)) {
            $0 == [E2E.east1, E2E.east2]
        }
        #expect(failed < .seconds(5), "through unbound, failing over took \(failed)")
        // And back, the same way.
        try original.write(to: west, atomically: true, encoding: .utf8)
        let back = try LiveRecordsEndToEndTests.waitFor(resolver, g, "A", within: .seconds(8)) { $0 == [E2E.west1] }
        #expect(back < .seconds(5), "through unbound, coming back took \(back)")
        #expect(unbound.isRunning && process.isRunning)
    }

    @Test func aCachedAnswerKeepsItsOrderForItsTTLAndTheSpreadShowsAcrossPeriods() throws {
        let (members, process, direct) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try Self.setTTL(members, 3)
        _ = try LiveRecordsEndToEndTests.waitFor(direct, g, "A", within: .seconds(5)) { _ in
            (try? direct.query(g, "A")?.answer.first { $0.type == "A" }?.ttl) == 3
        }
        let unbound = try Self.unbound(process.port, roundRobin: false)
        defer { unbound.stop() }
        let resolver = try Dig(port: unbound.port, timeoutSeconds: 4)

        var firstsAcrossPeriods: [String] = []
        for _ in 0..<6 {
            // A reply with at least 2 s of its TTL left: the answer stays cached past the next few queries.
            let remaining = try #require(try resolver.query(g, "A")?.answer.first { $0.type == "A" }?.ttl)
            if remaining >= 2 {
                // Within one TTL period every client of the resolver gets the one cached order: no spread.
                var within: Set<String> = []
                for _ in 0..<5 { if let first = try Self.first(unbound.port, g) { within.insert(first) } }
                #expect(within.count == 1, "one cached answer, one order within its TTL: \(within)")
                firstsAcrossPeriods.append(contentsOf: within)
            }
            // Past the TTL the resolver asks mcdns again and gets the next turn.
            Thread.sleep(forTimeInterval: Double(remaining) + 0.3)
        }
        #expect(firstsAcrossPeriods.count >= 3, "too few periods caught early: \(firstsAcrossPeriods)")
        #expect(Set(firstsAcrossPeriods).count >= 2, "the first address moves across TTL periods: \(firstsAcrossPeriods)")
        #expect(unbound.isRunning && process.isRunning)
    }

    @Test func theResolverPassesTheWeightedOrderItFetchedToEveryClient() throws {
        let (members, process, direct) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try E2E.annotate(members, "weighted: east-1=80, east-2=10, west-1=10")
        // mcdns itself puts east-1 first in about 80% of its answers.
        _ = try LiveRecordsEndToEndTests.waitFor(direct, g, "A", within: .seconds(5)) { _ in
            ((try? E2E.firstAddresses(process.port, g, count: 300)[E2E.east1]) ?? 0) >= 210
        }
        // unbound with its defaults (rrset-roundrobin: yes). The demo's TTL (30 s) outlasts these queries: they all
        // come from one cached answer, so the weights apply per fetch, not per client query.
        let unbound = try Self.unbound(process.port, roundRobin: true)
        defer { unbound.stop() }
        let counts = try E2E.firstAddresses(unbound.port, g, count: 300)
        let answered = counts.values.reduce(0, +)
        #expect(answered >= 290, "\(counts)")
        let leader = counts.values.max() ?? 0
        #expect(Double(leader) >= 0.9 * Double(answered), "one order for every client within the TTL: \(counts)")
    }
}
