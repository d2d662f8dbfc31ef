import DNSTestSupport
import Foundation
import Testing

/// A real resolver in front of mcdns, as a member's cluster DNS would be: unbound with stub zones for
/// clusterset.local and the federation domain pointing at `mcdns serve` (the demo members, the shipped zones).
/// Every query asked through unbound gets the answer mcdns gives directly: the same RCODE, the same RRsets
/// (unbound may lower TTLs, never raise them), the same SOA behind NXDOMAIN and NODATA. Then once more from
/// unbound's cache. shop/api is made unready in us-east-1, so its names there answer with fallback CNAME chains.
@Suite(.serialized) struct UnboundStubZoneTests {
    static let members = TestZones.packageRoot.appendingPathComponent("examples/demo/members").path
    static let zones = TestZones.packageRoot.appendingPathComponent("zones").path

    /// (name, type): positive answers of every kind, fallback CNAME chains, NXDOMAIN and NODATA, static and
    /// generated names, and a mixed-case question.
    static let queries: [(String, String)] = [
        ("web.shop.acme.svc.example.com", "A"),
        ("web.shop.acme.svc.example.com", "AAAA"),
        ("web.shop.acme.svc.us-east-1.example.com", "A"),
        ("web.shop.acme.svc.us-east-1b.us-east-1.example.com", "A"),
        ("WEB.Shop.ACME.svc.us-west-2.Example.COM", "A"),
        ("api.shop.acme.svc.example.com", "A"),
        // Fallback chains: zone → region → global, and region → global.
        ("api.shop.acme.svc.us-east-1a.us-east-1.example.com", "A"),
        ("api.shop.acme.svc.us-east-1b.us-east-1.example.com", "A"),
        ("api.shop.acme.svc.us-east-1.example.com", "A"),
        // A chain that ends in NODATA (api has no IPv6 target).
        ("api.shop.acme.svc.us-east-1a.us-east-1.example.com", "AAAA"),
        ("api.shop.acme.svc.us-west-2.example.com", "A"),
        ("db.shop.acme.svc.example.com", "A"),
        ("db.shop.acme.svc.us-west-2a.us-west-2.example.com", "A"),
        ("web.shop.svc.clusterset.local", "A"),
        ("api.shop.svc.clusterset.local", "A"),
        ("db.shop.svc.clusterset.local", "A"),
        ("_http._tcp.api.shop.svc.clusterset.local", "SRV"),
        ("_grpc._tcp.api.shop.svc.clusterset.local", "SRV"),
        ("dns-version.clusterset.local", "TXT"),
        ("docs.example.com", "A"),
        ("www.example.com", "AAAA"),
        ("api.example.com", "A"),
        ("_sip._tcp.example.com", "SRV"),
        ("example.com", "TXT"),
        // NODATA: names that exist, types they do not have.
        ("web.shop.acme.svc.example.com", "TXT"),
        ("web.shop.svc.clusterset.local", "MX"),
        ("mail.example.com", "AAAA"),
        // NXDOMAIN: unknown services and names below existing ones.
        ("nothing.shop.acme.svc.example.com", "A"),
        ("nothing.shop.svc.clusterset.local", "A"),
        ("cache.shop.acme.svc.example.com", "A"),
        ("deeper.web.shop.svc.clusterset.local", "A"),
        ("no-such-name.example.com", "A"),
    ]

    /// What two responses must share: the RCODE, answer RRsets without TTLs, and the negative answer's SOA owner.
    struct Comparable: Equatable, CustomStringConvertible {
        var rcode: String
        var answer: [String]
        var negativeSOA: String?

        init(_ response: ResponseSummary) {
            rcode = response.rcode
            answer = response.answer.map { "\($0.owner) \($0.type) \($0.rdata.joined(separator: " | "))" }.sorted()
            let negative = response.answer.allSatisfy { $0.type == "CNAME" }
            negativeSOA = negative ? response.authority.first { $0.type == "SOA" }?.owner : nil
        }

        var description: String { "\(rcode) \(answer) soa: \(negativeSOA ?? "-")" }
    }

    /// The demo members, with shop/api not ready in both us-east-1 clusters: its zone names there fall back to
    /// the region (CNAME), which falls back to the global name (CNAME), which west-1 answers.
    static func membersWithFallbacks() throws -> TemporaryDirectory {
        let copy = try TemporaryDirectory(prefix: "mcdns-members")
        for cluster in ["east-1", "east-2", "west-1"] {
            try FileManager.default.copyItem(
                atPath: "\(Self.members)/\(cluster)",
                toPath: copy.url.appendingPathComponent(cluster).path
            )
        }
        let edits = [
            ("east-1/api.yaml", "conditions: { ready: true }", "conditions: { ready: false }"),
            ("east-2/api.yaml", "    zone: us-east-1b", "    conditions: { ready: false }\n    zone: us-east-1b"),
        ]
        for (file, old, new) in edits {
            let path = copy.url.appendingPathComponent(file)
            let text = try String(contentsOf: path, encoding: .utf8)
            #expect(text.contains(old), "\(file) no longer has \(old)")
            try text.replacingOccurrences(of: old, with: new).write(to: path, atomically: true, encoding: .utf8)
        }
        return copy
    }

    @Test func unboundGivesTheAnswersMcdnsGives() throws {
        let members = try Self.membersWithFallbacks()
        defer { members.remove() }
        let mcdns = try MCDNSProcess.start(
            binary: KnotDifferentialTests.mcdnsBinary,
            zonesDir: Self.zones,
            extraConfig: """
                federation: { name: acme, domain: example.com }
                clusters:
                  - { name: east-1, source: { manifests: "\(members.path)/east-1" } }
                  - { name: east-2, source: { manifests: "\(members.path)/east-2" } }
                  - { name: west-1, source: { manifests: "\(members.path)/west-1" } }
                """
        )
        defer { mcdns.stop() }
        let direct = try Dig(port: mcdns.port)
        // The members sync a moment after the DNS port opens.
        try Self.waitUntil(within: .seconds(15)) {
            try direct.query("web.shop.acme.svc.example.com", "A")?.answer.first?.rdata.count == 3
        }
        let unbound = try UnboundProcess.start(
            stubZones: ["clusterset.local", "example.com"],
            authorityPort: mcdns.port,
            probeName: "readiness-probe.clusterset.local"
        )
        defer { unbound.stop() }
        let resolver = try Dig(port: unbound.port, timeoutSeconds: 4)

        var kinds: Set<String> = []
        for pass in ["first", "cached"] {
            for (name, type) in Self.queries {
                let expected = try #require(try direct.query(name, type), "mcdns did not answer \(name) \(type)")
                guard let resolved = try resolver.query(name, type) else {
                    Issue.record("\(pass): unbound did not answer \(name) \(type)\n\(unbound.log)")
                    continue
                }
                #expect(
                    Comparable(resolved) == Comparable(expected),
                    "\(pass) \(name) \(type):\n unbound \(Comparable(resolved))\n mcdns   \(Comparable(expected))"
                )
                // A resolver may count TTLs down, never up.
                for rrset in resolved.answer {
                    let original = expected.answer.first { $0.owner == rrset.owner && $0.type == rrset.type }
                    #expect(
                        rrset.ttl <= (original?.ttl ?? 0),
                        "\(pass) \(name) \(type): \(rrset) above \(original?.ttl ?? 0)"
                    )
                }
                #expect(resolved.ra && !resolved.aa, "\(pass) \(name) \(type): flags \(resolved.flags)")
                if pass == "first" { kinds.formUnion(Self.kinds(of: expected, type: type)) }
                if pass == "first", name.hasPrefix("api.shop.acme.svc.us-east-1a.") {
                    // The fallback really is there: two CNAMEs before the answer.
                    #expect(expected.answer.filter { $0.type == "CNAME" }.count == 2, "\(expected)")
                }
            }
        }
        // The list covers every kind of answer the stub zones must carry through.
        #expect(kinds.isSuperset(of: ["A", "AAAA", "SRV", "TXT", "CNAME", "NXDOMAIN", "NODATA"]), "\(kinds)")
        #expect(unbound.isRunning && mcdns.isRunning)
    }

    static func kinds(of response: ResponseSummary, type: String) -> Set<String> {
        if response.rcode == "NXDOMAIN" { return ["NXDOMAIN"] }
        let types = Set(response.answer.map(\.type))
        return types.contains(type) ? types : types.union(["NODATA"])
    }

    static func waitUntil(within limit: Duration, _ condition: () throws -> Bool) throws {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < limit {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("condition not met within \(limit)")
    }
}
