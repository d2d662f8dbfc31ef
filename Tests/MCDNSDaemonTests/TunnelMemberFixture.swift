import ClusterController
import ClusterTunnel
import DNSTestSupport
import Foundation
import KubeAPISimulator
import KubeClient
import Logging
import MCDNSDaemon
import MCDNSModel
import Synchronization

/// A tunnel member as the host reads it, in one process, with a TCP proxy the test controls between agent and
/// host: KubeAPISimulator ← HTTPKubeConnector ← agent(s) ← `FaultProxy` ← `TunnelServer` (fixed port, so it can be
/// restarted) ← `TunnelKubeConnector` ← `KubeMemberSource` (the unchanged reflectors, all four kinds) → a
/// recorder of the member's events. Short timers, so faults show within seconds.
final class TunnelMemberFixture: Sendable {
    static let cluster = "east-1"
    static let token = "east-1-member-token"

    let certificates: TestCertificates
    let sim: KubeAPISimulator
    let server: TunnelServer
    let proxy: FaultProxy
    let direct: HTTPKubeConnector
    let source: KubeMemberSource
    let recorder = MemberRecorder()
    private let tokenFile: String
    private let limits: TunnelLimits
    private let sourceTask = Mutex<Task<Void, any Error>?>(nil)

    static var fastLimits: TunnelLimits {
        var limits = TunnelLimits()
        limits.pingInterval = .milliseconds(500)
        limits.pingTimeout = .seconds(2)
        limits.webSocketPingInterval = .milliseconds(500)
        limits.handshakeTimeout = .seconds(5)
        return limits
    }

    static var fastReflectors: ReflectorConfiguration {
        var configuration = ReflectorConfiguration()
        configuration.initialBackoff = .milliseconds(100)
        configuration.maximumBackoff = .seconds(1)
        return configuration
    }

    init(reflectors: ReflectorConfiguration = fastReflectors) async throws {
        certificates = try TestCertificates(clientClusters: [])
        sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(500)))
        _ = try sim.create(TunnelMemberTests.service("web"))
        tokenFile = try certificates.directory.write("token", Self.token + "\n")
        let digest = try ProcessRunner.run("/bin/sh", ["-c", "printf %s '\(Self.token)' | sha256sum"]).stdout.prefix(64)
        limits = Self.fastLimits
        // A fixed port: the host-restart test stops the server and starts it again where the proxy expects it.
        server = try TunnelServer(
            configuration: TunnelServerConfiguration(
                host: "127.0.0.1",
                port: try FreePort.pick(),
                certificateFile: certificates.hostCert,
                keyFile: certificates.hostKey,
                clusters: [Self.cluster: .init(tokenSHA256: String(digest))],
                limits: limits
            ),
            logger: Logger(label: "host")
        )
        try await server.start()
        proxy = try await FaultProxy(targetPort: server.localPort!)
        direct = try HTTPKubeConnector(
            configuration: KubeClientConfiguration(server: sim.baseURL, origin: "simulator"),
            logger: Logger(label: "agent-upstream")
        )
        source = KubeMemberSource(
            cluster: ClusterID(Self.cluster),
            connector: TunnelKubeConnector(server: server, cluster: Self.cluster),
            configuration: reflectors,
            logger: Logger(label: "member")
        )
    }

    /// An agent dialling the host through the proxy, until the returned task is cancelled. `maximumBackoff` is also
    /// how long a replaced agent waits before it dials again.
    /// `upstream` nil is the fixture's simulator; another connector puts another API server behind the cluster name.
    func startAgent(
        maximumBackoff: Duration = .milliseconds(200),
        upstream: HTTPKubeConnector? = nil
    ) throws -> (agent: TunnelAgent, task: Task<Void, Never>) {
        let configuration = try TunnelAgentConfiguration(
            url: "wss://127.0.0.1:\(proxy.port)",
            cluster: Self.cluster,
            tokenFile: tokenFile,
            caFile: certificates.hostCA,
            limits: limits,
            backoff: ReconnectBackoff(initial: .milliseconds(50), maximum: maximumBackoff)
        )
        let agent = TunnelAgent(
            configuration: configuration,
            upstream: KubeTunnelUpstream(connector: upstream ?? direct),
            logger: Logger(label: "agent")
        )
        return (agent, Task { await agent.run() })
    }

    /// Runs the member source (its reflectors) until `shutdown`.
    func startSource() {
        let source = self.source
        let sink = recorder.sink
        sourceTask.withLock { $0 = Task { try await source.run(events: sink) } }
    }

    /// Lists the simulator served, per kind the member reads: a relist of any kind shows here.
    func lists() -> [String: Int] {
        let kinds: [(String, SimResource)] = [
            ("services", .services), ("endpointslices", .endpointSlices), ("serviceexports", .serviceExports),
            ("nodes", .nodes),
        ]
        return Dictionary(uniqueKeysWithValues: kinds.map { ($0.0, sim.fullListCount($0.1)) })
    }

    /// Starts an agent and the source, and waits for the first sync with `web` in it.
    func startSynced() async throws -> (agent: TunnelAgent, task: Task<Void, Never>) {
        let agent = try startAgent()
        startSource()
        guard await recorder.eventually({ $0.synced == 1 && $0.services == ["web"] }) else {
            throw TestSupportError.system("the member did not sync through the tunnel: \(recorder.state)")
        }
        return agent
    }

    var sessionsAccepted: Int {
        server.status().first { $0.cluster == Self.cluster }?.sessionsAccepted ?? 0
    }

    func shutdown() async {
        let task = sourceTask.withLock { $0 }
        task?.cancel()
        _ = await task?.result
        await proxy.shutdown()
        await server.shutdown()
        await direct.shutdown()
        try? await sim.stop()
        certificates.directory.remove()
    }
}

/// What a member source reported, reduced to what the fault tests check: the services' names, and how often the
/// link was lost, regained without a relist, or synced (initially, or after a relist).
final class MemberRecorder: Sendable {
    struct State: Sendable, CustomStringConvertible {
        var services: Set<String> = []
        var synced = 0
        var linkLost = 0
        var linkRegained = 0

        var description: String {
            "services \(services.sorted()), synced \(synced), linkLost \(linkLost), linkRegained \(linkRegained)"
        }
    }

    private let box = Mutex(State())

    var state: State { box.withLock { $0 } }

    var sink: MemberEventSink {
        MemberEventSink { [self] event in
            self.box.withLock { state in
                switch event {
                case .replace(.service, let objects): state.services = Set(objects.map(\.ref.name))
                case .upsert(let object) where object.ref.kind == .service: state.services.insert(object.ref.name)
                case .delete(let ref) where ref.kind == .service: state.services.remove(ref.name)
                case .synced: state.synced += 1
                case .linkLost: state.linkLost += 1
                case .linkRegained: state.linkRegained += 1
                default: break
                }
            }
        }
    }

    /// Polls until `condition` holds (true) or `timeout` passes (false).
    func eventually(timeout: Duration = .seconds(20), _ condition: @Sendable (State) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(state) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(state)
    }
}
