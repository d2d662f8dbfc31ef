import ClusterController
import Foundation
import KubeAPISimulator
import KubeClient
import Logging
import MCDNSModel
import Synchronization
import Testing

/// Tests 14–17: members read over HTTP from `KubeAPISimulator` through `KubeMemberSource` and the controller.
@Suite("Members from an API server", .serialized)
struct KubeMemberSourceTests {
    static var quick: ReflectorConfiguration {
        var configuration = ReflectorConfiguration()
        configuration.initialBackoff = .milliseconds(100)
        configuration.maximumBackoff = .seconds(1)
        configuration.silenceTimeout = .seconds(2)
        return configuration
    }

    /// One controller over `members` sources, each reading the simulator at `url` with its own connector.
    struct Fleet {
        let harness: ControllerHarness<ContinuousClock>
        let connectors: [HTTPKubeConnector]
        let sources: [KubeMemberSource]
        let limiter: ListLimiter

        init(url: String, members: [String], grace: Duration = .seconds(30), listConcurrency: Int = 4) throws {
            limiter = ListLimiter(limit: listConcurrency, jitter: .milliseconds(50))
            var connectors: [HTTPKubeConnector] = []
            var sources: [KubeMemberSource] = []
            for member in members {
                let connector = try HTTPKubeConnector(configuration: KubeClientConfiguration(server: url, origin: member),
                                                      logger: Fixture.logger)
                connectors.append(connector)
                sources.append(KubeMemberSource(cluster: ClusterID(member), connector: connector,
                                                configuration: KubeMemberSourceTests.quick, limiter: limiter,
                                                logger: Fixture.logger))
            }
            self.connectors = connectors
            self.sources = sources
            let configuration = ControllerConfiguration(
                members: members.map { MemberConfiguration(name: ClusterID($0), region: "r1", zones: ["r1a"], source: .tunnel) },
                staleGracePeriod: grace
            )
            harness = try ControllerHarness(configuration: configuration, sources: sources, clock: ContinuousClock())
        }

        var sink: RecordingSink { harness.sink }

        func stop() async {
            await harness.stop()
            for connector in connectors { await connector.shutdown() }
        }
    }

    static func exported(_ name: String, spec: String) -> String {
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"shop","annotations":{"mcdns.io/export":"true"}},"spec":\#(spec)}"#
    }

    static func slice(_ name: String, service: String, type: String = "IPv4", endpoints: String) -> String {
        #"{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"\#(name)","namespace":"shop","labels":{"kubernetes.io/service-name":"\#(service)"}},"addressType":"\#(type)","endpoints":\#(endpoints),"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}"#
    }

    static let key = ServiceKey(namespace: "shop", name: "web")

    static func endpoints(_ state: RecordingSink.State, _ key: ServiceKey = key) -> [String: Bool] {
        var result: [String: Bool] = [:]
        for endpoint in state.records[key]?.status.dns.flatMap(\.endpoints) ?? [] { result[endpoint.address.description] = endpoint.ready }
        return result
    }

    @Test("14: an outage longer than compaction: stale meanwhile, then 410, relist, deletes applied")
    func outageLongerThanCompaction() async throws {
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(300)))
        _ = try sim.create(Self.exported("web", spec: #"{"clusterIP":"10.96.0.10","ports":[{"name":"http","port":80}]}"#))
        _ = try sim.create(Self.exported("api", spec: #"{"clusterIP":"10.96.0.11","ports":[{"name":"http","port":80}]}"#))
        let fleet = try Fleet(url: sim.baseURL, members: ["m1"])
        let apiKey = ServiceKey(namespace: "shop", name: "api")
        #expect(await fleet.sink.wait { $0.records[Self.key] != nil && $0.records[apiKey] != nil && $0.cluster("m1")?.link == .synced } != nil)

        // Every watch is refused for two seconds (Retry-After); meanwhile api goes and history is compacted.
        sim.inject(.status(code: 503, retryAfterSeconds: 2), matching: .any, times: 4)
        sim.closeWatches()
        let stale = await fleet.sink.wait { $0.cluster("m1")?.link == .stale }
        #expect(stale?.records[apiKey]?.status.dns.first?.stale == true, "answers kept, marked stale")
        try sim.delete(.services, namespace: "shop", name: "api")
        sim.compact()
        let after = await fleet.sink.wait { $0.cluster("m1")?.link == .synced && $0.records[apiKey] == nil }
        #expect(after != nil, "the relist removed the service deleted while away")
        #expect(after?.records[Self.key]?.status.dns.first?.stale == false)
        let statistics = fleet.sources[0].reflectors.first { $0.kind == .service }!.statistics.snapshot
        #expect(statistics.lists["expired"] == 1)
        await fleet.stop()
        try await sim.stop()
    }

    @Test("15: twenty members restarting at once list under the concurrency cap")
    func twentyMembersRestarting() async throws {
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(500)))
        _ = try sim.create(Self.exported("web", spec: #"{"clusterIP":"10.96.0.10","ports":[{"name":"http","port":80}]}"#))
        let members = (1...20).map { "m\($0)" }
        let fleet = try Fleet(url: sim.baseURL, members: members, listConcurrency: 3)
        #expect(await fleet.sink.wait(timeout: .seconds(30)) { state in
            members.allSatisfy { state.cluster(ClusterID($0))?.link == .synced }
        } != nil)
        #expect(sim.fullListCount(.services) == 20)
        // The API server "restarts" with an empty watch cache: every watch is cut and every re-watch answered with
        // ERROR 410, so all 80 reflectors (20 members × 4 kinds) relist at once.
        for resource in [SimResource.services, .endpointSlices, .serviceExports, .nodes] {
            sim.inject(.watchErrorEvent(code: 410), matching: .watch(resource), times: 20)
        }
        sim.closeWatches()
        let deadline = ContinuousClock.now + .seconds(30)
        while sim.fullListCount(.services) < 40 || sim.fullListCount(.nodes) < 40, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(sim.fullListCount(.services) == 40)
        #expect(await fleet.limiter.highWater <= 3)
        #expect(await fleet.limiter.highWater >= 2, "lists did overlap, so the cap was what held them")
        #expect(fleet.sink.current.records[Self.key]?.status.dns.count == 20)
        await fleet.stop()
        try await sim.stop()
    }

    @Test("16: EndpointSlice cases: one IP in two slices, an endpoint moving, dual stack, ready absent")
    func endpointSliceCases() async throws {
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(300)))
        _ = try sim.create(Self.exported("web", spec: #"{"clusterIP":"10.96.0.10","ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"PreferDualStack","ports":[{"name":"http","port":80}]}"#))
        _ = try sim.create(Self.slice("web-a", service: "web", endpoints: #"[{"addresses":["10.0.0.1"],"conditions":{"ready":true}},{"addresses":["10.0.0.3"],"conditions":{"ready":true}}]"#))
        _ = try sim.create(Self.slice("web-b", service: "web", endpoints: #"[{"addresses":["10.0.0.1"],"conditions":{"ready":false}},{"addresses":["10.0.0.2"]}]"#))
        let fleet = try Fleet(url: sim.baseURL, members: ["m1"])
        // 10.0.0.1 is in both slices (ready in one: ready), 10.0.0.2 has no ready condition (ready).
        #expect(await fleet.sink.wait { Self.endpoints($0) == ["10.0.0.1": true, "10.0.0.2": true, "10.0.0.3": true] } != nil,
                "\(Self.endpoints(fleet.sink.current))")
        // 10.0.0.3 moves from web-a to web-b.
        _ = try sim.update(Self.slice("web-a", service: "web", endpoints: #"[{"addresses":["10.0.0.1"],"conditions":{"ready":true}}]"#))
        _ = try sim.update(Self.slice("web-b", service: "web", endpoints: #"[{"addresses":["10.0.0.1"],"conditions":{"ready":false}},{"addresses":["10.0.0.2"]},{"addresses":["10.0.0.3"],"conditions":{"ready":false}}]"#))
        #expect(await fleet.sink.wait { Self.endpoints($0) == ["10.0.0.1": true, "10.0.0.2": true, "10.0.0.3": false] } != nil,
                "\(Self.endpoints(fleet.sink.current))")
        // Dual stack: an IPv6 slice beside the IPv4 ones.
        _ = try sim.create(Self.slice("web-v6", service: "web", type: "IPv6", endpoints: #"[{"addresses":["2001:db8::1"],"conditions":{"ready":true}}]"#))
        #expect(await fleet.sink.wait { Self.endpoints($0)["2001:db8::1"] == true && Self.endpoints($0).count == 4 } != nil)
        // Removing the first slice leaves 10.0.0.1 only in web-b, where it is not ready.
        try sim.delete(.endpointSlices, namespace: "shop", name: "web-a")
        #expect(await fleet.sink.wait { Self.endpoints($0)["10.0.0.1"] == false } != nil)
        await fleet.stop()
        try await sim.stop()
    }

    @Test("17: Service cases: to and from ExternalName, headless, dual-stack clusterIPs, publishNotReadyAddresses")
    func serviceCases() async throws {
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(300)))
        let fleet = try Fleet(url: sim.baseURL, members: ["m1"])
        #expect(await fleet.sink.wait { $0.cluster("m1")?.link == .synced } != nil)

        _ = try sim.create(Self.exported("web", spec: #"{"type":"ExternalName","externalName":"web.example.net"}"#))
        #expect(await fleet.sink.wait { $0.records[Self.key]?.status.externalTarget == "web.example.net" } != nil)
        _ = try sim.update(Self.exported("web", spec: #"{"type":"ClusterIP","clusterIP":"10.96.0.20","ports":[{"name":"http","port":80}]}"#))
        let clusterIP = await fleet.sink.wait { state in
            state.records[Self.key]?.status.externalTarget == nil && state.records[Self.key]?.status.dns.first?.clusterIPs == ["10.96.0.20"]
        }
        #expect(clusterIP != nil, "\(String(describing: fleet.sink.current.records[Self.key]))")
        _ = try sim.update(Self.exported("web", spec: #"{"type":"ExternalName","externalName":"other.example.net"}"#))
        #expect(await fleet.sink.wait { $0.records[Self.key]?.status.externalTarget == "other.example.net" } != nil)

        let db = ServiceKey(namespace: "shop", name: "db")
        _ = try sim.create(Self.exported("db", spec: #"{"clusterIP":"None","ports":[{"name":"pg","port":5432}]}"#))
        _ = try sim.create(Self.slice("db-1", service: "db", endpoints: #"[{"addresses":["10.0.1.1"],"hostname":"db-0","conditions":{"ready":true}}]"#))
        #expect(await fleet.sink.wait { $0.records[db]?.status.headless == true && Self.endpoints($0, db) == ["10.0.1.1": true] } != nil)

        let dual = ServiceKey(namespace: "shop", name: "dual")
        _ = try sim.create(Self.exported("dual", spec: #"{"clusterIP":"10.96.0.30","clusterIPs":["10.96.0.30","fd00::30"],"ipFamilies":["IPv4","IPv6"],"ipFamilyPolicy":"RequireDualStack","ports":[{"name":"http","port":80}]}"#))
        #expect(await fleet.sink.wait { $0.records[dual]?.status.dns.first?.clusterIPs == ["10.96.0.30", "fd00::30"] } != nil,
                "\(String(describing: fleet.sink.current.records[dual]))")

        let eager = ServiceKey(namespace: "shop", name: "eager")
        _ = try sim.create(Self.exported("eager", spec: #"{"clusterIP":"10.96.0.40","publishNotReadyAddresses":true,"ports":[{"name":"http","port":80}]}"#))
        _ = try sim.create(Self.slice("eager-1", service: "eager", endpoints: #"[{"addresses":["10.0.2.1"],"conditions":{"ready":false}}]"#))
        #expect(await fleet.sink.wait { Self.endpoints($0, eager) == ["10.0.2.1": true] } != nil)
        await fleet.stop()
        try await sim.stop()
    }

    @Test("a member whose watches resume without a gap reports linkRegained, not a relist")
    func linkLostAndRegained() async throws {
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(300)))
        _ = try sim.create(Self.exported("web", spec: #"{"clusterIP":"10.96.0.10","ports":[{"name":"http","port":80}]}"#))
        let connector = try HTTPKubeConnector(configuration: KubeClientConfiguration(server: sim.baseURL, origin: "m1"),
                                              logger: Fixture.logger)
        let source = KubeMemberSource(cluster: "m1", connector: connector, configuration: Self.quick, logger: Fixture.logger)
        let events = MemberEventLog()
        let task = Task { try await source.run(events: MemberEventSink { events.append($0) }) }
        #expect(await events.wait { $0.contains(.synced) })
        sim.inject(.status(code: 503, retryAfterSeconds: 1), matching: .any, times: 4)
        sim.closeWatches()
        #expect(await events.wait { $0.contains(.linkRegained) })
        task.cancel()
        _ = try? await task.value
        await connector.shutdown()
        let links = events.all.filter {
            switch $0 {
            case .synced, .linkLost, .linkRegained: return true
            default: return false
            }
        }
        #expect(links.count == 3, "\(links)")
        #expect(links.first == .synced)
        if case .linkLost(let reason) = links.dropFirst().first {
            // The cut watch itself (closed at once) or the refused re-watch (503), whichever came first.
            #expect(reason.contains("serverError") || reason.contains("closedEmpty"), "\(reason)")
        } else {
            Issue.record("expected linkLost second, got \(links)")
        }
        #expect(links.last == .linkRegained)
        #expect(sim.fullListCount(.services) == 1, "no relist")
        try await sim.stop()
    }
}

/// The member events a source sent, in order.
final class MemberEventLog: Sendable {
    private let events = Mutex<[MemberEvent]>([])

    func append(_ event: MemberEvent) { events.withLock { $0.append(event) } }

    var all: [MemberEvent] { events.withLock { $0 } }

    func wait(timeout: Duration = .seconds(15), until condition: ([MemberEvent]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(all) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(all)
    }
}
