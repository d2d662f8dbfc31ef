import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// `LiveTable.explain`: the evidence behind each fallback step of DESIGN §4.1, from the same rules the table uses.
@Suite struct ExplainTests {
    typealias L = LiveNamesTests

    func table(_ dns: [ClusterDNS], clusters: [ClusterInfo] = L.clusters) throws -> LiveTable {
        let live = try LiveNamesTests().live()
        _ = try live.apply(RecordChanges(upserted: [L.web(dns)], clusters: clusters), serial: 77)
        return live
    }

    @Test func globalNameForARequesterTakesTheNearestLevel() throws {
        let live = try table(L.healthy)
        let e = live.explain(try DomainName("web.shop.acme.svc.example.com"), .a, requester: "east-2", serial: 77)
        #expect(e.service == "shop/web")
        #expect(e.kind == "global")
        #expect(e.serial == 77)
        #expect(e.ttl == 30)
        #expect(e.answer.count == 1 && e.answer[0].hasSuffix("192.0.2.12"))
        #expect(e.step.contains("first level with healthy targets: cluster (east-2)"))
        #expect(e.candidates.map(\.cluster) == ["east-1", "east-2", "west-1"])
        #expect(e.candidates.map(\.level) == ["region", "cluster", "global"])
        #expect(e.candidates.allSatisfy { $0.healthy })
    }

    @Test func zoneWithoutHealthyTargetsFallsBackToTheRegion() throws {
        var dns = L.healthy
        dns[1].readyEndpoints = 0
        dns[1].endpoints = dns[1].endpoints.map {
            var e = $0
            e.ready = false
            return e
        }
        let live = try table(dns)
        let e = live.explain(
            try DomainName("web.shop.acme.svc.us-east-1b.us-east-1.example.com"),
            .a,
            requester: nil,
            serial: 77
        )
        #expect(e.kind == "zone")
        #expect(e.degraded)
        #expect(e.step.contains("zone→region"))
        #expect(e.ttl == 5, "the CNAME of a fallback step carries the degraded TTL")
        #expect(e.answer.first?.contains("CNAME") == true)
        let east2 = try #require(e.candidates.first { $0.cluster == "east-2" })
        #expect(!east2.healthy)
        #expect(east2.reason == "no ready endpoints")
    }

    @Test func regionWithEveryClusterOfflineFallsBackToGlobal() throws {
        var clusters = L.clusters
        clusters[2].link = .offline
        let live = try table(L.healthy, clusters: clusters)
        let e = live.explain(try DomainName("web.shop.acme.svc.us-west-2.example.com"), .a, requester: nil, serial: 77)
        #expect(e.kind == "region")
        #expect(e.step.contains("region→global"))
        let west = try #require(e.candidates.first { $0.cluster == "west-1" })
        #expect(west.link == "offline" && !west.healthy)
        #expect(west.reason.contains("offline"))
    }

    @Test func namesNoServiceOwns() throws {
        let live = try table(L.healthy)
        let outside = live.explain(try DomainName("example.org"), .a, requester: nil, serial: 77)
        #expect(outside.resolution == "refused")
        #expect(outside.zone == nil)
        #expect(outside.step.contains("REFUSED"))
        let missing = live.explain(try DomainName("nope.shop.acme.svc.example.com"), .a, requester: nil, serial: 77)
        #expect(missing.resolution == "nxDomain")
        #expect(missing.service == nil)
    }
}
