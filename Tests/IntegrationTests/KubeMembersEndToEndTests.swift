import DNSTestSupport
import Foundation
import KubeAPISimulator
import Testing

/// Issue 4 end to end: two simulated member API servers over HTTP, the real `mcdns serve` reading them through a
/// kubeconfig, real `dig`. Creates, scales, deletes and re-creates services; stops one member for less than the
/// grace period (answers kept, stale, degraded TTL), then for longer (answers dropped), and restarts it (resync).
@Suite(.serialized) struct KubeMembersEndToEndTests {
    static let zones = TestZones.packageRoot.appendingPathComponent("zones").path
    static let grace = 6
    let web = "web.shop.svc.clusterset.local"
    let db = "db.shop.svc.clusterset.local"

    static func service(_ name: String, _ spec: String) -> String {
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"shop","annotations":{"mcdns.io/export":"true"}},"spec":\#(spec)}"#
    }

    static func slice(_ name: String, _ service: String, _ addresses: [String]) -> String {
        let endpoints = addresses.map { #"{"addresses":["\#($0)"],"conditions":{"ready":true}}"# }.joined(separator: ",")
        return #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"\#(name)","namespace":"shop","labels":{"kubernetes.io/service-name":"\#(service)"}},"addressType":"IPv4","endpoints":[\#(endpoints)],"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}"#
    }

    /// The member's objects: `web` (ClusterIP) and `db` (headless, `replicas` endpoints).
    static func populate(_ sim: KubeAPISimulator, clusterIP: String, subnet: String, replicas: Int) throws {
        _ = try sim.create(service("web", #"{"clusterIP":"\#(clusterIP)","ports":[{"name":"http","port":80}]}"#))
        _ = try sim.create(slice("web-1", "web", ["\(subnet).1"]))
        _ = try sim.create(service("db", #"{"clusterIP":"None","ports":[{"name":"pg","port":5432}]}"#))
        _ = try sim.create(slice("db-1", "db", (1...replicas).map { "\(subnet).1\($0)" }))
    }

    /// A simulator on a port below the ephemeral range (32768–60999 by default): a member that is stopped and
    /// restarted on its old port must find it free, and a port from the ephemeral range can meanwhile become the
    /// source port of some client connection (the other member's long watch), which made the rebind fail.
    static func startOnStablePort() async throws -> KubeAPISimulator {
        var lastError: (any Error)?
        for _ in 0..<40 {
            do {
                return try await KubeAPISimulator.start(SimulatorConfiguration(port: Int.random(in: 20_000..<32_000),
                                                                               bookmarkInterval: .milliseconds(500)))
            } catch {
                lastError = error
            }
        }
        throw lastError!
    }

    /// A member API server back after a restart on its old port: history beyond what the client saw, then
    /// compacted, as etcd is after a restore, so the client's watch gets 410 and relists.
    /// `identity` is the old server's kube-system uid: the same cluster, so its watches may resume (and get 410).
    static func restart(port: Int, after previous: String, identity: String, clusterIP: String, subnet: String)
        async throws -> KubeAPISimulator
    {
        let sim = try await KubeAPISimulator.start(
            SimulatorConfiguration(port: port, bookmarkInterval: .milliseconds(500), kubeSystemUID: identity)
        )
        while (Int(sim.currentResourceVersion) ?? 0) <= (Int(previous) ?? 0) {
            _ = try sim.create(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"filler"}}"#)
            try sim.delete(.nodes, namespace: nil, name: "filler")
        }
        try populate(sim, clusterIP: clusterIP, subnet: subnet, replicas: 1)
        sim.compact()
        return sim
    }

    static func answer(_ dig: Dig, _ name: String) throws -> (rdata: [String], ttl: UInt32?) {
        guard let response = try dig.query(name, "A") else { return (["<no response>"], nil) }
        let sets = response.answer.filter { $0.type == "A" }
        return (sets.flatMap(\.rdata).sorted(), sets.map(\.ttl).min())
    }

    static func waitFor(_ dig: Dig, _ name: String, within limit: Duration = .seconds(15),
                        _ accept: ([String], UInt32?) -> Bool) throws -> Bool {
        let start = ContinuousClock.now
        var last: ([String], UInt32?) = ([], nil)
        while ContinuousClock.now - start < limit {
            last = try answer(dig, name)
            if accept(last.0, last.1) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("\(name) still answers \(last.0) (TTL \(String(describing: last.1))) after \(limit)")
        return false
    }

    @Test(.timeLimit(.minutes(3)))
    func twoMembersOverHTTP() async throws {
        let east = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(500)))
        var west = try await Self.startOnStablePort()
        let westPort = west.port
        let dir = try TemporaryDirectory(prefix: "mcdns-kube")
        defer { dir.remove() }
        let kubeconfig = try dir.write("members.kubeconfig", """
            apiVersion: v1
            kind: Config
            current-context: east
            clusters:
            - { name: east, cluster: { server: "\(east.baseURL)" } }
            - { name: west, cluster: { server: "\(west.baseURL)" } }
            contexts:
            - { name: east, context: { cluster: east } }
            - { name: west, context: { cluster: west } }
            """)
        let adminPort = try FreePort.loopback()
        let process = try MCDNSProcess.start(binary: KnotDifferentialTests.mcdnsBinary, zonesDir: Self.zones,
                                             adminPort: adminPort, extraConfig: """
            federation: { name: acme, domain: example.com }
            ttl: { record: 30, degraded: 5, negative: 5 }
            staleGracePeriod: \(Self.grace)s
            clusters:
              - { name: east, region: us-east-1, zones: [us-east-1a], source: { kubeconfig: "\(kubeconfig)", context: east } }
              - { name: west, region: us-west-2, zones: [us-west-2a], source: { kubeconfig: "\(kubeconfig)", context: west } }
            """)
        defer { process.stop() }
        let dig = try Dig(port: process.port)

        // Create: each member's ClusterIP appears.
        try Self.populate(east, clusterIP: "10.96.1.10", subnet: "10.1.0", replicas: 1)
        try Self.populate(west, clusterIP: "10.96.2.10", subnet: "10.2.0", replicas: 1)
        #expect(try Self.waitFor(dig, web) { rdata, ttl in rdata == ["10.96.1.10", "10.96.2.10"] && ttl == 30 }, "\(process.log)")

        // Scale: the headless service's endpoints follow the slice.
        _ = try east.update(Self.slice("db-1", "db", ["10.1.0.11", "10.1.0.12", "10.1.0.13"]))
        #expect(try Self.waitFor(dig, db) { rdata, _ in rdata == ["10.1.0.11", "10.1.0.12", "10.1.0.13", "10.2.0.11"] })
        _ = try east.update(Self.slice("db-1", "db", ["10.1.0.11"]))
        #expect(try Self.waitFor(dig, db) { rdata, _ in rdata == ["10.1.0.11", "10.2.0.11"] })

        // Delete and re-create in one member.
        try west.delete(.services, namespace: "shop", name: "web")
        #expect(try Self.waitFor(dig, web) { rdata, _ in rdata == ["10.96.1.10"] })
        _ = try west.create(Self.service("web", #"{"clusterIP":"10.96.2.99","ports":[{"name":"http","port":80}]}"#))
        #expect(try Self.waitFor(dig, web) { rdata, _ in rdata == ["10.96.1.10", "10.96.2.99"] })

        // West's API server stops for less than the grace: its answers stay, with the degraded TTL.
        var seen = west.currentResourceVersion
        try await west.stop()
        #expect(try Self.waitFor(dig, web) { rdata, ttl in rdata == ["10.96.1.10", "10.96.2.99"] && ttl == 5 })
        // /metrics counts west's two services (web, db) as answered from stale targets; east has none.
        let staleMetrics = try ProcessRunner.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(adminPort)/metrics"]).stdout
        #expect(staleMetrics.contains("mcdns_member_link_state{cluster=\"west\",state=\"stale\"} 1\n"), "\(staleMetrics)")
        #expect(staleMetrics.contains("mcdns_records_stale_targets{cluster=\"west\"} 2\n"), "\(staleMetrics)")
        #expect(staleMetrics.contains("mcdns_records_stale_targets{cluster=\"east\"} 0\n"))
        west = try await Self.restart(port: westPort, after: seen, identity: west.kubeSystemUID, clusterIP: "10.96.2.10", subnet: "10.2.0")
        #expect(try Self.waitFor(dig, web) { rdata, ttl in rdata == ["10.96.1.10", "10.96.2.10"] && ttl == 30 }, "resynced after the restart")
        // The restarted, compacted server answered the watch with 410: the relist shows in /metrics, by reason,
        // from the reflector's swift-metrics counters through the daemon's Prometheus registry.
        let metrics = try ProcessRunner.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(adminPort)/metrics"]).stdout
        let relists = metrics.split(separator: "\n").filter {
            $0.hasPrefix("mcdns_relists_total{") && $0.contains("cluster=\"west\"") && $0.contains("reason=\"expired\"")
        }
        #expect(!relists.isEmpty, "\(metrics)")
        #expect(metrics.contains("mcdns_watch_restarts_total{"), "\(metrics)")

        // Stopped for longer than the grace: west's answers go.
        seen = west.currentResourceVersion
        try await west.stop()
        let stopped = ContinuousClock.now
        #expect(try Self.waitFor(dig, web, within: .seconds(Self.grace + 20)) { rdata, _ in rdata == ["10.96.1.10"] })
        #expect(ContinuousClock.now - stopped >= .seconds(Self.grace - 1), "kept until the grace ended")

        // Back again: resynced by itself.
        west = try await Self.restart(port: westPort, after: seen, identity: west.kubeSystemUID, clusterIP: "10.96.2.10", subnet: "10.2.0")
        #expect(try Self.waitFor(dig, web, within: .seconds(40)) { rdata, ttl in rdata == ["10.96.1.10", "10.96.2.10"] && ttl == 30 })
        #expect(try Self.waitFor(dig, db) { rdata, _ in rdata == ["10.1.0.11", "10.2.0.11"] })
        try await west.stop()
        try await east.stop()
    }

    /// Issue 23 through `mcdns serve`: a member's API server restarts on an etcd restored from a backup (same
    /// cluster, so the same kube-system uid, but a lower resourceVersion than the host's watches reached). The
    /// daemon relists: a service created after the backup goes away, and changes made after the restore arrive.
    /// Before, the watches resumed from the lost future version, which the server answers 200 and then nothing, and
    /// the member kept serving the lost state for good with its link `synced`.
    @Test(.timeLimit(.minutes(2)))
    func aMemberRestoredFromABackupIsServedAsRestoredNotFrozen() async throws {
        let sim = try await Self.startOnStablePort()
        let dir = try TemporaryDirectory(prefix: "mcdns-restore")
        defer { dir.remove() }
        let kubeconfig = try dir.write("member.kubeconfig", """
            apiVersion: v1
            kind: Config
            current-context: east
            clusters:
            - { name: east, cluster: { server: "\(sim.baseURL)" } }
            contexts:
            - { name: east, context: { cluster: east } }
            """)
        let process = try MCDNSProcess.start(binary: KnotDifferentialTests.mcdnsBinary, zonesDir: Self.zones,
                                             adminPort: try FreePort.loopback(), extraConfig: """
            federation: { name: acme, domain: example.com }
            ttl: { record: 30, degraded: 5, negative: 5 }
            staleGracePeriod: 60s
            clusters:
              - { name: east, region: us-east-1, zones: [us-east-1a], source: { kubeconfig: "\(kubeconfig)", context: east } }
            """)
        defer { process.stop() }
        let dig = try Dig(port: process.port)
        try Self.populate(sim, clusterIP: "10.96.1.10", subnet: "10.1.0", replicas: 1)
        let backup = sim.snapshot()
        let api = "api.shop.svc.clusterset.local"
        _ = try sim.create(Self.service("api", #"{"clusterIP":"10.96.1.20","ports":[{"name":"http","port":80}]}"#))
        _ = try sim.create(Self.slice("api-1", "api", ["10.1.0.20"]))
        #expect(try Self.waitFor(dig, api) { rdata, _ in rdata == ["10.96.1.20"] }, "\(process.log)")

        try await sim.restart(restoring: backup)
        #expect(try Self.waitFor(dig, api, within: .seconds(30)) { rdata, _ in rdata.isEmpty }, "\(process.log)")
        #expect(try Self.waitFor(dig, web) { rdata, ttl in rdata == ["10.96.1.10"] && ttl == 30 })
        let later = "later.shop.svc.clusterset.local"
        _ = try sim.create(Self.service("later", #"{"clusterIP":"10.96.1.30","ports":[{"name":"http","port":80}]}"#))
        _ = try sim.create(Self.slice("later-1", "later", ["10.1.0.30"]))
        #expect(try Self.waitFor(dig, later) { rdata, _ in rdata == ["10.96.1.30"] }, "\(process.log)")
        try await sim.stop()
    }
}
