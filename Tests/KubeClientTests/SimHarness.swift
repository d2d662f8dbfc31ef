import Foundation
import KubeAPISimulator
import KubeClient
import Logging
import Metrics
import Synchronization
import Testing

/// A simulated API server and reflectors reading it over real HTTP (HTTPKubeConnector).
struct SimHarness {
    let sim: KubeAPISimulator
    let connector: HTTPKubeConnector

    static func start(_ configuration: SimulatorConfiguration = SimulatorConfiguration(bookmarkInterval: .milliseconds(500)),
                      client: (String) -> KubeClientConfiguration = { KubeClientConfiguration(server: $0, origin: "test") })
        async throws -> SimHarness
    {
        let sim = try await KubeAPISimulator.start(configuration)
        let connector = try HTTPKubeConnector(configuration: client(sim.baseURL), logger: Logger(label: "test"))
        return SimHarness(sim: sim, connector: connector)
    }

    func stop() async {
        await connector.shutdown()
        try? await sim.stop()
    }

    /// Short times so failures and backoffs play out in seconds.
    static var quick: ReflectorConfiguration {
        var configuration = ReflectorConfiguration()
        configuration.initialBackoff = .milliseconds(100)
        configuration.maximumBackoff = .seconds(1)
        configuration.silenceTimeout = .seconds(2)
        configuration.watchTimeoutSeconds = 60...60
        return configuration
    }

    func run(_ kind: KubeObjectKind, _ configuration: ReflectorConfiguration = SimHarness.quick,
             connector: (any KubeConnector)? = nil, metrics: (any MetricsFactory)? = nil,
             clock: ReflectorClock = .continuous) -> ReflectorRun {
        let reflector = Reflector(kind: kind, connector: connector ?? self.connector, configuration: configuration,
                                  cluster: "sim", metrics: metrics, clock: clock, logger: Logger(label: "test"))
        return ReflectorRun(reflector: reflector)
    }

    /// Complete lists of `resource` the server answered: every list but the reflector's `limit=1` check of the
    /// server's current version before a watch resumes.
    func fullListCount(_ resource: SimResource) -> Int {
        sim.requests().filter { $0.isList && $0.resource == resource && $0.queryValue("limit") != "1" }.count
    }

    /// The server's objects of `kind` through the same projections the client uses.
    func serverObjects(_ kind: KubeObjectKind) throws -> [KubeObjectRef: KubeObject] {
        var result: [KubeObjectRef: KubeObject] = [:]
        for text in sim.objects(SimHarness.resource(kind)) {
            var json = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            if json["kind"] == nil { json["kind"] = kind.rawValue }
            if json["apiVersion"] == nil { json["apiVersion"] = kind.apiVersion }
            if let object = try KubeObject.decode(try KubeValue(jsonObject: json)) { result[object.ref] = object }
        }
        return result
    }

    static func resource(_ kind: KubeObjectKind) -> SimResource {
        switch kind {
        case .service: return .services
        case .endpointSlice: return .endpointSlices
        case .serviceDNSRecord: return .serviceDNSRecords
        case .serviceExport: return .serviceExports
        case .node: return .nodes
        }
    }

    @discardableResult
    func service(_ name: String, namespace: String = "shop", ip: String? = nil, extra: String = "") throws -> String {
        let clusterIP = ip.map { #","clusterIP":"\#($0)""# } ?? ""
        return try sim.create(#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"\#(namespace)"\#(extra)},"spec":{"ports":[{"name":"http","port":80}]\#(clusterIP)}}"#)
    }

    /// Waits until the reflector's store equals the server's objects of `kind`.
    func waitConsistent(_ run: ReflectorRun, timeout: Duration = .seconds(15)) async throws -> Bool {
        let kind = run.reflector.kind
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if run.synced, try run.objects == serverObjects(kind) { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        let missing = try Set(serverObjects(kind).keys).subtracting(run.objects.keys)
        let extra = try Set(run.objects.keys).subtracting(serverObjects(kind).keys)
        Issue.record("store differs from the server: missing \(missing), extra \(extra)")
        return false
    }
}

/// One running reflector and the store its events add up to.
final class ReflectorRun: Sendable {
    let reflector: Reflector
    private let store = Mutex(KubeObjectStore())
    private let log = Mutex<[ReflectorEvent]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    init(reflector: Reflector) {
        self.reflector = reflector
        let kind = reflector.kind
        let task = Task<Void, Never> { [self] in
            do {
                try await reflector.run { event in
                    self.store.withLock { $0.apply(event, kind: kind) }
                    self.log.withLock { $0.append(event) }
                }
            } catch {
                // Cancelled at the end of the test.
            }
        }
        self.task.withLock { $0 = task }
    }

    var objects: [KubeObjectRef: KubeObject] { store.withLock { $0.objects } }
    var events: [ReflectorEvent] { log.withLock { $0 } }
    var synced: Bool { events.contains { if case .replace = $0 { true } else { false } } }
    var statistics: ReflectorStatistics.Snapshot { reflector.statistics.snapshot }

    func stop() async {
        let task = self.task.withLock { $0 }
        task?.cancel()
        await task?.value
    }

    /// Polls `condition` on the statistics until it holds or the time is up.
    func wait(timeout: Duration = .seconds(15), until condition: (ReflectorStatistics.Snapshot) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(statistics) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(statistics)
    }
}
