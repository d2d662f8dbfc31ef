import ClusterTunnel
import DNSTestSupport
import Foundation
import KubeAPISimulator
import KubeClient
import Logging
import MCDNSDaemon
import Synchronization
import Testing

/// The daemon's two adapters end to end: KubeAPISimulator ← HTTPKubeConnector ← agent (KubeTunnelUpstream) ←
/// tunnel ← host (TunnelKubeConnector) ← the unchanged `Reflector`.
@Suite(.serialized) struct TunnelMemberTests {
    @Test func reflectorListsAndWatchesThroughTheTunnelAndResumesWithoutRelistAfterAnAgentRestart() async throws {
        let certificates = try TestCertificates(clientClusters: [])
        defer { certificates.directory.remove() }
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(500)))
        _ = try sim.create(Self.service("web"))
        let token = "east-1-token"
        let tokenFile = try certificates.directory.write("token", token + "\n")
        let digest = try ProcessRunner.run("/bin/sh", ["-c", "printf %s '\(token)' | sha256sum"]).stdout.prefix(64)
        var limits = TunnelLimits()
        limits.pingInterval = .milliseconds(500)
        limits.pingTimeout = .seconds(2)
        let server = try TunnelServer(
            configuration: TunnelServerConfiguration(
                host: "127.0.0.1",
                port: 0,
                certificateFile: certificates.hostCert,
                keyFile: certificates.hostKey,
                clusters: ["east-1": .init(tokenSHA256: String(digest))],
                limits: limits
            ),
            logger: Logger(label: "host")
        )
        try await server.start()
        let direct = try HTTPKubeConnector(
            configuration: KubeClientConfiguration(server: sim.baseURL, origin: "simulator"),
            logger: Logger(label: "agent")
        )
        let agentConfiguration = try TunnelAgentConfiguration(
            url: "wss://127.0.0.1:\(server.localPort!)",
            cluster: "east-1",
            tokenFile: tokenFile,
            caFile: certificates.hostCA,
            limits: limits,
            backoff: ReconnectBackoff(initial: .milliseconds(50), maximum: .milliseconds(200))
        )
        func startAgent() -> Task<Void, Never> {
            let agent = TunnelAgent(
                configuration: agentConfiguration,
                upstream: KubeTunnelUpstream(connector: direct),
                logger: Logger(label: "agent")
            )
            return Task { await agent.run() }
        }
        var agentTask = startAgent()

        var reflectorConfiguration = ReflectorConfiguration()
        reflectorConfiguration.initialBackoff = .milliseconds(100)
        reflectorConfiguration.maximumBackoff = .seconds(1)
        let reflector = Reflector(
            kind: .service,
            connector: TunnelKubeConnector(server: server, cluster: "east-1"),
            configuration: reflectorConfiguration,
            cluster: "east-1",
            logger: Logger(label: "reflector")
        )
        let names = Mutex<Set<String>>([])
        let run = Task {
            try await reflector.run { event in
                names.withLock { names in
                    switch event {
                    case .replace(let objects): names = Set(objects.map(\.ref.name))
                    case .upsert(let object): names.insert(object.ref.name)
                    case .delete(let ref): names.remove(ref.name)
                    default: break
                    }
                }
            }
        }
        #expect(await Self.eventually { names.withLock { $0 == ["web"] } })
        _ = try sim.create(Self.service("api"))
        #expect(await Self.eventually { names.withLock { $0 == ["web", "api"] } })
        #expect(sim.fullListCount(.services) == 1)

        // The agent goes away and comes back: the watch resumes from its resourceVersion, no relist.
        let first = try #require(server.session(for: "east-1"))
        agentTask.cancel()
        await agentTask.value
        await first.closed()
        agentTask = startAgent()
        _ = try sim.create(Self.service("db"))
        #expect(await Self.eventually { names.withLock { $0 == ["web", "api", "db"] } })
        #expect(sim.fullListCount(.services) == 1)
        #expect(sim.watchCount(.services) >= 2)

        run.cancel()
        agentTask.cancel()
        await server.shutdown()
        await direct.shutdown()
        try? await sim.stop()
    }

    static func service(_ name: String) -> String {
        #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)","namespace":"shop"},"spec":{"ports":[{"name":"http","port":80}],"clusterIP":"10.0.0.1"}}"#
    }

    static func eventually(timeout: Duration = .seconds(20), _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
