import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// Draining (README "Draining"): a drained cluster leaves every answer, its region and zone names fall back
/// outward, and an answer never goes empty because of draining alone. Built on LiveNamesTests' three clusters.
@Suite struct DrainTests {
    let names = LiveNamesTests()
    let g = "web.shop.acme.svc.example.com"
    let r1 = "web.shop.acme.svc.us-east-1.example.com"
    let z1 = "web.shop.acme.svc.us-east-1a.us-east-1.example.com"
    let cs = "web.shop.svc.clusterset.local"

    static func drained(_ ids: Set<String>, _ clusters: [ClusterInfo] = LiveNamesTests.clusters) -> [ClusterInfo] {
        clusters.map { info in
            var copy = info
            if ids.contains(info.id.rawValue) { copy.drain = ClusterDrain(origin: .admin, reason: "upgrade") }
            return copy
        }
    }

    @Test func aDrainedClusterLeavesEveryAnswerAndComesBackWhenUndrained() throws {
        let live = try names.live()
        let before = try live.apply(
            RecordChanges(upserted: [LiveNamesTests.web(LiveNamesTests.healthy)], clusters: LiveNamesTests.clusters),
            serial: 2)
        let all = [g, r1, z1, cs].map { try? names.query(before, $0).1 }
        let srvBefore = try names.query(before, "_http._tcp." + cs, .srv).1

        var table = try live.apply(RecordChanges(clusters: Self.drained(["east-1"])), serial: 3)
        #expect(try names.query(table, g).1 == ["\(g). 30 in a 192.0.2.12", "\(g). 30 in a 198.51.100.21"])
        #expect(try names.query(table, r1).1 == ["\(r1). 30 in a 192.0.2.12"])
        // Its zone falls back to the region, as for an unhealthy cluster.
        #expect(try names.query(table, z1).1 == ["\(r1). 30 in a 192.0.2.12", "\(z1). 5 in cname \(r1)."])
        #expect(try names.query(table, cs).1 == ["\(cs). 30 in a 10.2.0.10", "\(cs). 30 in a 10.3.0.10"])
        // A requester in the drained cluster gets the nearest undrained one.
        let asEast1: [UInt8] = [0xFF, 0xEE, 0, 6] + Array("east-1".utf8)
        #expect(try names.query(table, g, options: asEast1).1 == ["\(g). 30 in a 192.0.2.12"])
        #expect(try names.query(table, "_http._tcp." + cs, .srv).1 == srvBefore)

        table = try live.apply(RecordChanges(clusters: LiveNamesTests.clusters), serial: 4)
        #expect([g, r1, z1, cs].map { try? names.query(table, $0).1 } == all)
    }

    @Test func whenEveryHealthyClusterIsDrainedTheyAnswerAsIfNoneWere() throws {
        let live = try names.live()
        var table = try live.apply(
            RecordChanges(upserted: [LiveNamesTests.web(LiveNamesTests.healthy)],
                          clusters: Self.drained(["east-1", "east-2", "west-1"])),
            serial: 2)
        #expect(try names.query(table, g).1.count == 3)
        #expect(try names.query(table, z1).1 == ["\(z1). 30 in a 192.0.2.11"])
        #expect(try names.query(table, cs).1.count == 3)

        // west-1 turns unhealthy while east-1 and east-2 are drained: the drained ones are every healthy
        // cluster, so they answer; west-1's region falls back to them through the global name.
        var unhealthyWest = LiveNamesTests.healthy
        unhealthyWest[2].readyEndpoints = 0
        table = try live.apply(
            RecordChanges(upserted: [LiveNamesTests.web(unhealthyWest)], clusters: Self.drained(["east-1", "east-2"])),
            serial: 3)
        #expect(try names.query(table, g).1 == ["\(g). 30 in a 192.0.2.11", "\(g). 30 in a 192.0.2.12"])
        let r2 = "web.shop.acme.svc.us-west-2.example.com"
        #expect(try names.query(table, r2).1.contains("\(r2). 5 in cname \(g)."))

        // The fallback is explained, and reported in the record's serving summary.
        let explanation = live.explain(try DomainName(g), .a, requester: nil, serial: 3)
        #expect(explanation.step.contains("is drained: answering as if none were"), "\(explanation.step)")
        #expect(explanation.candidates.filter { $0.drained == true }.map(\.cluster) == ["east-1", "east-2"])
        let serving = RecordNames(naming: LiveNamesTests.naming, clusters: live.clusters)
            .serving(LiveNamesTests.web(unhealthyWest))
        #expect(serving.allDrained)
        #expect(serving.serving == ["east-1", "east-2"])
    }

    @Test func explainAndServingNameTheDrainedCluster() throws {
        let live = try names.live()
        _ = try live.apply(
            RecordChanges(upserted: [LiveNamesTests.web(LiveNamesTests.healthy)], clusters: Self.drained(["west-1"])),
            serial: 2)
        let explanation = live.explain(try DomainName(g), .a, requester: nil, serial: 2)
        let west = try #require(explanation.candidates.first { $0.cluster == "west-1" })
        #expect(!west.healthy)
        #expect(west.reason.contains("drained by mcdns drain (upgrade)"), "\(west.reason)")
        #expect(explanation.step.contains("drained, left out: west-1"), "\(explanation.step)")
        let serving = RecordNames(naming: LiveNamesTests.naming, clusters: live.clusters)
            .serving(LiveNamesTests.web(LiveNamesTests.healthy))
        #expect(serving.drained == ["west-1"])
        #expect(!serving.allDrained)
    }

    /// Headless: a drained cluster's endpoints leave the service name and its SRV targets, but the names of its
    /// single pods still answer (asking for one pod asks for that pod).
    @Test func headlessDrainKeepsPodNamesButLeavesTheServiceAndSRV() throws {
        let live = try names.live()
        var db = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "db"))
        db.status.headless = true
        db.status.ports = [ServicePort(name: "pg", protocol: "TCP", port: 5432)]
        db.status.dns = [
            ClusterDNS(cluster: "east-1", region: "us-east-1", zones: ["us-east-1a"],
                       endpoints: [Endpoint(address: "10.1.5.1", hostname: "db-0")], readyEndpoints: 1),
            ClusterDNS(cluster: "west-1", region: "us-west-2", zones: ["us-west-2a"],
                       endpoints: [Endpoint(address: "10.3.5.1", hostname: "db-0")], readyEndpoints: 1),
        ]
        let dbName = "db.shop.svc.clusterset.local"
        let table = try live.apply(RecordChanges(upserted: [db], clusters: Self.drained(["west-1"])), serial: 2)
        #expect(try names.query(table, dbName).1 == ["\(dbName). 30 in a 10.1.5.1"])
        #expect(try names.query(table, "_pg._tcp." + dbName, .srv).1
            == ["_pg._tcp.\(dbName). 30 in srv 0 100 5432 db-0.east-1.\(dbName)."])
        #expect(try names.query(table, "db-0.west-1." + dbName).1 == ["db-0.west-1.\(dbName). 30 in a 10.3.5.1"])
    }

    @Test func theRuleItself() {
        #expect(TargetServing.verdict(link: .offline, readyEndpoints: 3, allowsWithoutEndpoints: true) == .offline)
        #expect(TargetServing.verdict(link: .synced, readyEndpoints: 0, allowsWithoutEndpoints: false)
            == .noReadyEndpoints)
        #expect(TargetServing.verdict(link: .synced, readyEndpoints: 0, allowsWithoutEndpoints: true) == .served)
        #expect(TargetServing.verdict(link: .stale, readyEndpoints: 1, allowsWithoutEndpoints: false) == .stale)
        #expect(TargetServing.link(member: .synced, recordStale: true) == .stale)
        #expect(TargetServing.link(member: .offline, recordStale: false) == .offline)
        #expect(TargetServing.link(member: nil, recordStale: false) == .synced)
        #expect(TargetServing.ttl(record: 30, degraded: 5, stale: true) == 5)
        #expect(TargetServing.ttl(record: 3, degraded: 5, stale: true) == 3)
        let some = TargetServing.selecting([1, 2, 3]) { $0 == 2 }
        #expect(some.answering == [1, 3] && some.drainedOut == [2] && !some.allDrained)
        let every = TargetServing.selecting([1, 2]) { _ in true }
        #expect(every.answering == [1, 2] && every.drainedOut.isEmpty && every.allDrained)
        let none = TargetServing.selecting([Int]()) { _ in true }
        #expect(none.answering.isEmpty && !none.allDrained)
    }
}
