import ClusterTunnel
import DNSTestSupport
import Foundation
import NIOCore
import NIOSSL

/// A host tunnel server on 127.0.0.1 and agents dialling it (directly, or through a `FaultProxy`), with short
/// timers so faults show within a second or two, and every log line recorded.
final class TunnelFixture: Sendable {
    static let token = "s3cret-token-east-1"

    let certificates: TestCertificates
    let upstream: LoopbackAPIServer
    let server: TunnelServer
    let logs = LogRecorder()
    let agentLogs = LogRecorder()
    let tokenFile: String

    static var fastLimits: TunnelLimits {
        var limits = TunnelLimits()
        limits.pingInterval = .milliseconds(500)
        limits.pingTimeout = .seconds(2)
        limits.webSocketPingInterval = .milliseconds(300)
        limits.handshakeTimeout = .seconds(5)
        limits.timeToFirstByte = .seconds(5)
        return limits
    }

    static let fastBackoff = ReconnectBackoff(
        initial: .milliseconds(50),
        maximum: .milliseconds(200),
        stableAfter: .seconds(5)
    )

    init(clientCertificates: Bool = false, clusters: [String] = ["east-1", "west-2"]) async throws {
        certificates = try TestCertificates()
        upstream = try await LoopbackAPIServer()
        tokenFile = try certificates.directory.write("token", Self.token + "\n")
        var credentials: [String: TunnelServerConfiguration.ClusterCredential] = [:]
        for cluster in clusters {
            let token = cluster == "east-1" ? Self.token : "token-of-\(cluster)"
            credentials[cluster] = .init(tokenSHA256: Self.sha256Hex(token))
        }
        let configuration = try TunnelServerConfiguration(
            host: "127.0.0.1",
            port: 0,
            certificateFile: certificates.hostCert,
            keyFile: certificates.hostKey,
            clientCAFile: clientCertificates ? certificates.clientCA : nil,
            clusters: credentials,
            limits: Self.fastLimits
        )
        server = try TunnelServer(configuration: configuration, logger: logs.logger("host"))
        try await server.start()
    }

    var port: Int { server.localPort! }

    static func sha256Hex(_ text: String) -> String {
        let output = try? ProcessRunner.run("/bin/sh", ["-c", "printf %s '\(text)' | sha256sum"])
        return String(output?.stdout.prefix(64) ?? "")
    }

    func agentConfiguration(
        cluster: String = "east-1",
        port: Int? = nil,
        tokenFile: String? = nil,
        caFile: String? = nil
    ) throws -> TunnelAgentConfiguration {
        try TunnelAgentConfiguration(
            url: "wss://127.0.0.1:\(port ?? self.port)",
            cluster: cluster,
            tokenFile: tokenFile ?? self.tokenFile,
            caFile: caFile ?? certificates.hostCA,
            limits: Self.fastLimits,
            backoff: Self.fastBackoff
        )
    }

    /// Runs an agent until the returned task is cancelled.
    func startAgent(_ configuration: TunnelAgentConfiguration) -> (agent: TunnelAgent, task: Task<Void, Never>) {
        let agent = TunnelAgent(
            configuration: configuration,
            upstream: LoopbackHTTPUpstream(port: upstream.port),
            logger: agentLogs.logger("agent")
        )
        let task = Task { await agent.run() }
        return (agent, task)
    }

    func shutdown() async {
        await server.shutdown()
        await upstream.shutdown()
        certificates.directory.remove()
    }
}

/// Reads a body to its end.
func collect(_ body: AsyncThrowingStream<ByteBuffer, any Error>) async throws -> String {
    var text = ""
    for try await chunk in body { text += String(buffer: chunk) }
    return text
}

/// Awaits `operation`, failing after `timeout` instead of hanging the suite.
func within<T: Sendable>(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TestFailure("timed out after \(timeout)")
        }
        let result = try await group.next()!
        group.cancelAll()
        return result
    }
}
