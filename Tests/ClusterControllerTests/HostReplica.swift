import ClusterController
import DNSTestSupport
import Foundation
import KubeAPISimulator
import KubeClient
import Logging
import MCDNSModel

/// One mcdns replica's host-cluster half, as the daemon wires it: a HostRecordSource, a LeaderElector, a
/// StatusWriter and a ClusterController (over a scripted member) publishing to a recording sink and the writer.
/// It talks to the simulator over real HTTP with its own token, so the simulator's request log tells the
/// replicas' writes apart by user. The writer's resync period and conflict backoff run on `clock`, the elector's
/// retries, renew deadline and lease expiry on `electionClock`; only the test advances them. While the election
/// clock stands still a leader stays leader without renewing, and a follower does not try again.
struct HostReplica: Sendable {
    let name: String
    let clock = ManualClock()
    let electionClock = ManualClock()
    let resync: Duration
    let member: ScriptedSource
    let sink = RecordingSink()
    let records: HostRecordSource
    let elector: LeaderElector
    let writer: StatusWriter
    let connector: HTTPKubeConnector
    let tasks: [Task<Void, any Error>]

    static let timings = LeaderElectionConfiguration(
        namespace: "mcdns-system",
        identity: "unused",
        leaseDuration: .seconds(2),
        renewDeadline: .milliseconds(1500),
        retryPeriod: .milliseconds(200)
    )

    static var reflector: ReflectorConfiguration {
        var configuration = ReflectorConfiguration()
        configuration.initialBackoff = .milliseconds(100)
        configuration.maximumBackoff = .seconds(1)
        configuration.watchTimeoutSeconds = 60...60
        return configuration
    }

    /// `token` must map to the user `name` in the simulator's configuration.
    init(
        name: String,
        token: String,
        sim: KubeAPISimulator,
        resync: Duration = .milliseconds(300),
        leaseDuration: Duration = HostReplica.timings.leaseDuration
    ) throws {
        self.name = name
        self.resync = resync
        var logger = Logger(label: "mcdns.test.\(name)")
        logger.logLevel = .info
        connector = try HTTPKubeConnector(
            configuration: KubeClientConfiguration(server: sim.baseURL, bearerToken: .literal(token), origin: "test"),
            logger: logger
        )
        records = HostRecordSource(connector: connector, configuration: Self.reflector, logger: logger)
        var timings = Self.timings
        timings.identity = name
        timings.leaseDuration = leaseDuration
        elector = try LeaderElector(
            configuration: timings,
            connector: connector,
            logger: logger,
            clock: ReflectorClock(electionClock)
        )
        writer = StatusWriter(
            configuration: StatusWriter.Configuration(resyncPeriod: resync),
            elector: elector,
            hostRecords: records,
            connector: connector,
            logger: logger,
            clock: ReflectorClock(clock)
        )
        member = ScriptedSource("east-1")
        let controller = try ClusterController(
            configuration: ControllerConfiguration(
                members: [.scripted("east-1", region: "us-east-1", zones: ["us-east-1a"])],
                coalescingWindow: .milliseconds(5)
            ),
            sources: [member],
            sink: FanOut(sinks: [sink, writer]),
            logger: logger,
            clock: ContinuousClock(),
            wallClock: { 1_700_000_000 },
            hostRecords: records
        )
        let records = self.records
        let elector = self.elector
        let writer = self.writer
        tasks = [
            Task { try await records.run() },
            Task { try await elector.run() },
            Task { try await writer.run() },
            Task { try await controller.run() },
        ]
    }

    /// Publishes `web` in shop with one ready endpoint at `address` (and the member synced).
    func publish(address: IPAddress, annotations: [String: String] = ["mcdns.io/export": "true"]) {
        member.send(
            .upsert(.service(Fixture.service(clusterIPs: ["10.96.0.10"], annotations: annotations))),
            .upsert(.endpointSlice(Fixture.slice("web-1", [Fixture.endpoint(address, ready: true)]))),
            .synced
        )
    }

    func withdraw() {
        member.send(.delete(KubeObjectRef(kind: .service, namespace: "shop", name: "web")))
    }

    /// Advances the writer's clock a resync period at a time (each step may release a resync round or a conflict
    /// backoff) until `condition` holds; false after `timeout` of real time.
    func advance(timeout: Duration = .seconds(10), until condition: () async -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            clock.advance(by: resync)
            try? await Task.sleep(for: .milliseconds(10))
        }
        return await condition()
    }

    /// Lets the writer act on every batch the controller has published so far: waits until the writer has taken
    /// them in, then advances its clock until two more passes have finished (the second began after the last
    /// batch arrived). What was not written by then is not written for those batches. False after 10 s.
    func settle() async -> Bool {
        let batches = sink.current.batches.count
        guard await eventually({ writer.statistics.batches >= batches }) else { return false }
        let passes = writer.statistics.passes
        return await advance { writer.statistics.passes >= passes + 2 }
    }

    /// Advances the election clock by a retry period (and its most jitter) at a time, each step once the elector
    /// waits for its next attempt, until `condition` holds; false when it does not hold within `limit` on that
    /// clock (or the elector does not get back to waiting within 10 s of real time).
    func advanceElection(within limit: Duration, until condition: () -> Bool) async -> Bool {
        let step = Self.timings.retryPeriod * 1.2
        var passed = Duration.zero
        while true {
            guard await eventually({ electionClock.sleepers > 0 }) else { return false }
            if condition() { return true }
            if passed >= limit { return false }
            electionClock.advance(by: step)
            passed += step
        }
    }

    /// Stops the replica as SIGTERM would: tasks cancelled, the elector releases the Lease.
    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = try? await task.value }
        await connector.shutdown()
    }
}

/// Hands each batch to several sinks, as the daemon's fan-out does.
struct FanOut: ServiceRecordSink {
    let sinks: [any ServiceRecordSink]

    func apply(_ changes: RecordChanges) async {
        for sink in sinks { await sink.apply(changes) }
    }
}

/// Polls `condition` until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now.advanced(by: timeout)
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

extension KubeAPISimulator {
    /// Status PUTs answered 200, by user.
    func statusWrites(by user: String) -> Int {
        requests().filter { $0.method == "PUT" && $0.path.hasSuffix("/status") && $0.user == user && $0.status == 200 }
            .count
    }

    func statusPuts() -> [SimRequestRecord] {
        requests().filter { $0.method == "PUT" && $0.path.hasSuffix("/status") }
    }

    /// The stored ServiceDNSRecord shop/web as JSON, or nil.
    func webRecord() -> [String: Any]? {
        get(.serviceDNSRecords, namespace: "shop", name: "web").flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
