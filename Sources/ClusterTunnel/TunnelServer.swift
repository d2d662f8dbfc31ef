import Foundation
public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOHTTP1
import NIOHTTP2
public import NIOPosix
import NIOSSL
import NIOWebSocket

/// The host's end of the reverse tunnel (DESIGN §6): a TLS listener that upgrades `/tunnel/v1` to WebSocket for an
/// authenticated agent, then speaks HTTP/2 as the client over it.
///
/// The newest authenticated connection for a cluster wins: the previous session is drained with a GOAWAY.
/// `session(for:)` and `nextSession(for:after:)` hand out sessions; `status()` says per cluster whether a tunnel is
/// connected, since when and from where.
public final class TunnelServer: Sendable {
    public static let path = "/tunnel/v1"

    private struct Registry {
        var current: [String: TunnelSession] = [:]
        var status: [String: TunnelConnectionStatus] = [:]
        var waiters:
            [UInt64: (cluster: String, after: UInt64, continuation: CheckedContinuation<TunnelSession, any Error>)] =
                [:]
        var nextWaiter: UInt64 = 0
        var nextSession: UInt64 = 0
    }

    private let configuration: TunnelServerConfiguration
    private let authenticator: TunnelAuthenticator
    private let sslContext: NIOSSLContext
    private let group: any EventLoopGroup
    private let logger: Logger
    private let registry: NIOLockedValueBox<Registry>
    private let listener = NIOLockedValueBox<(any Channel)?>(nil)
    private let refusals: TunnelRefusalLog
    /// Connections accepted and not yet upgraded (TLS or the upgrade still under way), capped by
    /// `TunnelLimits.maxPendingConnections`.
    private let pending = NIOLockedValueBox(0)

    public init(
        configuration: TunnelServerConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) throws {
        try configuration.validate()
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: configuration.certificateChain.map { .certificate($0) },
            privateKey: .privateKey(configuration.privateKey)
        )
        TunnelTLS.restrict(&tls)
        if let clientCA = configuration.clientCertificateAuthority {
            // Optional: agents with a token present no certificate; a certificate that is presented must verify.
            tls.certificateVerification = .optionalVerification
            tls.trustRoots = .certificates(clientCA)
        }
        self.sslContext = try NIOSSLContext(configuration: tls)
        self.configuration = configuration
        self.authenticator = TunnelAuthenticator(configuration: configuration)
        self.group = group
        self.logger = logger
        self.refusals = TunnelRefusalLog(logger: logger)
        let now = Date()
        var registry = Registry()
        for cluster in configuration.clusters.keys {
            registry.status[cluster] = TunnelConnectionStatus(cluster: cluster, connected: false, since: now)
        }
        self.registry = NIOLockedValueBox(registry)
    }

    /// Binds the listener. Returns once it accepts connections.
    public func start() async throws {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture { try self.configureConnection(channel) }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        listener.withLockedValue { $0 = channel }
        logger.info(
            "tunnel server listening",
            metadata: ["tunnel.listen": "\(channel.localAddress?.description ?? "?")"]
        )
    }

    /// The bound port (useful when configured with port 0).
    public var localPort: Int? { listener.withLockedValue { $0?.localAddress?.port } }

    /// Starts, then serves until the task is cancelled, then shuts down.
    public func run() async throws {
        try await start()
        await withTaskCancellationHandler {
            let closeFuture = listener.withLockedValue { $0?.closeFuture }
            try? await closeFuture?.get()
        } onCancel: {
            self.shutdownNow()
        }
    }

    /// Closes the listener and every session.
    public func shutdown() async {
        let channel = shutdownNow()
        try? await channel?.closeFuture.get()
    }

    @discardableResult
    private func shutdownNow() -> (any Channel)? {
        let channel = listener.withLockedValue { $0 }
        channel?.close(promise: nil)
        let (sessions, waiters) = registry.withLockedValue { registry in
            let result = (Array(registry.current.values), Array(registry.waiters.values))
            registry.waiters.removeAll()
            return result
        }
        for session in sessions { session.close() }
        for waiter in waiters { waiter.continuation.resume(throwing: TunnelError.noSession(cluster: waiter.cluster)) }
        return channel
    }

    // MARK: Sessions

    /// The current active session of `cluster`, if its agent is connected.
    public func session(for cluster: String) -> TunnelSession? {
        registry.withLockedValue { $0.current[cluster] }.flatMap { $0.state == .active ? $0 : nil }
    }

    /// The current session of `cluster` if it is active and not `previous`; otherwise waits for the next one.
    /// Throws `CancellationError` when the task is cancelled.
    public func nextSession(for cluster: String, after previous: TunnelSession? = nil) async throws -> TunnelSession {
        try await nextSession(for: cluster, newerThan: previous?.id ?? 0)
    }

    /// The id of the newest session accepted so far for any cluster (0 before the first). Session ids only grow,
    /// so a session whose id is larger arrived later: `nextSession(for:newerThan:)` waits for one.
    public var latestSessionID: UInt64 { registry.withLockedValue { $0.nextSession } }

    /// The current session of `cluster` if it is active and its id is larger than `id`; otherwise waits for the
    /// next such session. Throws `CancellationError` when the task is cancelled, `TunnelError.noSession` when the
    /// server shuts down.
    public func nextSession(for cluster: String, newerThan id: UInt64) async throws -> TunnelSession {
        let waiterID = registry.withLockedValue { registry -> UInt64 in
            registry.nextWaiter += 1
            return registry.nextWaiter
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let ready: TunnelSession? = registry.withLockedValue { registry in
                    if let session = registry.current[cluster], session.state == .active, session.id > id {
                        return session
                    }
                    if Task.isCancelled { return nil }
                    registry.waiters[waiterID] = (cluster, id, continuation)
                    return nil
                }
                if let ready {
                    continuation.resume(returning: ready)
                } else if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            let waiter = registry.withLockedValue { $0.waiters.removeValue(forKey: waiterID) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Connections refused before a session, by reason: `tooManyPending`, `handshakeTimeout`, `tls`,
    /// `headerTooLarge`, `badRequest`, `notFound`, `unauthorized`, `forbidden`.
    public func refusalCounts() -> [String: Int] {
        refusals.counts
    }

    /// Connections accepted and not yet upgraded, now.
    public var pendingConnections: Int { pending.withLockedValue { $0 } }

    /// Per configured cluster: the TunnelConnected condition, since when, from where, and the last error.
    public func status() -> [TunnelConnectionStatus] {
        registry.withLockedValue { $0.status.values.sorted { $0.cluster < $1.cluster } }
    }

    private func register(_ session: TunnelSession) {
        let (previous, waiters) = registry.withLockedValue { registry in
            let previous = registry.current[session.cluster]
            registry.current[session.cluster] = session
            var status =
                registry.status[session.cluster]
                ?? TunnelConnectionStatus(cluster: session.cluster, connected: false, since: session.since)
            status.connected = true
            status.since = session.since
            status.remoteAddress = session.remoteAddress
            status.authentication = session.authentication
            status.sessionsAccepted += 1
            if previous != nil { status.takeovers += 1 }
            registry.status[session.cluster] = status
            var ready: [CheckedContinuation<TunnelSession, any Error>] = []
            for (id, waiter) in registry.waiters where waiter.cluster == session.cluster && session.id > waiter.after {
                ready.append(waiter.continuation)
                registry.waiters.removeValue(forKey: id)
            }
            return (previous, ready)
        }
        if let previous {
            // Newest wins (an agent restarting must not wait for its old connection to time out), so whoever holds
            // the cluster's token can take its tunnel: say so loudly, with both ends, and count it.
            logger.warning(
                "tunnel for cluster \(session.cluster) taken over: a new connection from \(session.remoteAddress) replaces the one from \(previous.remoteAddress); if only one agent should run, rotate the cluster's token",
                metadata: [
                    "cluster.id": "\(session.cluster)", "tunnel.remote": "\(session.remoteAddress)",
                    "tunnel.previousRemote": "\(previous.remoteAddress)",
                ]
            )
            previous.retire(
                reason: "a newer connection for cluster \(session.cluster) from \(session.remoteAddress) replaces it"
            )
        }
        for waiter in waiters { waiter.resume(returning: session) }
    }

    private func sessionClosed(_ session: TunnelSession, error: String) {
        let wasCurrent = registry.withLockedValue { registry -> Bool in
            guard registry.current[session.cluster]?.id == session.id else { return false }
            registry.current.removeValue(forKey: session.cluster)
            registry.status[session.cluster]?.connected = false
            registry.status[session.cluster]?.since = Date()
            registry.status[session.cluster]?.lastError = error
            return true
        }
        if wasCurrent {
            logger.notice(
                "tunnel disconnected: \(error)",
                metadata: ["cluster.id": "\(session.cluster)", "tunnel.remote": "\(session.remoteAddress)"]
            )
        }
    }

    // MARK: Connection pipeline

    /// Per connection: what `shouldUpgrade` decided, for the refusal handler to answer with.
    final class ConnectionState: Sendable {
        let decision = NIOLockedValueBox<TunnelAuthenticator.Decision?>(nil)
    }

    private func configureConnection(_ channel: any Channel) throws {
        let remote = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
        var connectionLogger = self.logger
        connectionLogger[metadataKey: "tunnel.remote"] = "\(remote)"
        let logger = connectionLogger
        let state = ConnectionState()
        let limits = configuration.limits
        let refusals = self.refusals

        // Unauthenticated connections are cheap to open and cost a TLS handshake each: only so many at once.
        let admitted = pending.withLockedValue { pending -> Bool in
            guard pending < limits.maxPendingConnections else { return false }
            pending += 1
            return true
        }
        guard admitted else {
            refusals.refused(
                "tooManyPending", level: .warning,
                "tunnel connection refused: \(limits.maxPendingConnections) connections are already authenticating",
                logger: logger
            )
            channel.close(promise: nil)
            return
        }
        let released = NIOLockedValueBox(false)
        let release: @Sendable () -> Void = { [pending] in
            guard released.withLockedValue({ done in defer { done = true }; return !done }) else { return }
            pending.withLockedValue { $0 -= 1 }
        }
        channel.closeFuture.whenComplete { _ in release() }

        // TLS and the upgrade together must finish within the handshake timeout.
        let handshakeDeadline = channel.eventLoop.scheduleTask(in: limits.handshakeTimeout) { [logger] in
            refusals.refused(
                "handshakeTimeout", level: .notice,
                "tunnel handshake (TLS + WebSocket upgrade) did not finish within the handshake timeout; closing",
                logger: logger
            )
            channel.close(promise: nil)
        }

        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: limits.maxWebSocketFrameSize,
            shouldUpgrade: { [self] channel, head in
                channel.eventLoop.makeCompletedFuture {
                    let decision = try self.decide(channel: channel, head: head, logger: logger)
                    state.decision.withLockedValue { $0 = decision }
                    guard case .accepted = decision else { return nil }
                    return HTTPHeaders()
                }
            },
            upgradePipelineHandler: { [self] channel, _ in
                handshakeDeadline.cancel()
                release()
                return channel.eventLoop.makeCompletedFuture {
                    guard case .accepted(let cluster, let method) = state.decision.withLockedValue({ $0 }) else {
                        throw TunnelError.configuration("upgrade without an accepted credential")
                    }
                    try self.startSession(
                        channel: channel,
                        cluster: cluster,
                        method: method,
                        remote: remote,
                        logger: logger
                    )
                }
            }
        )
        let sync = channel.pipeline.syncOperations
        try sync.addHandler(NIOSSLServerHandler(context: sslContext))
        try sync.addHandler(TunnelTLSErrorLogger(logger: logger, peer: "agent", refusals: refusals))
        try sync.addHandler(
            TunnelUpgradeHeadLimit(limit: limits.maxHeaderListSize, logger: logger, refusals: refusals),
            name: TunnelUpgradeHeadLimit.name
        )
        try sync.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }),
            withErrorHandling: true
        )
        try sync.addHandler(TunnelRefusalHandler(state: state), name: TunnelRefusalHandler.name)
    }

    private func decide(
        channel: any Channel,
        head: HTTPRequestHead,
        logger: Logger
    ) throws -> TunnelAuthenticator.Decision {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        guard path == Self.path else {
            refusals.refused(
                "notFound", level: .notice, "upgrade request for \(path) refused: the tunnel lives at \(Self.path)",
                logger: logger
            )
            return .refused(status: .notFound, reason: "no tunnel at \(path)")
        }
        // RFC 6455 §4.2.1: the handshake's Connection header names "upgrade". NIO's upgrader takes a request
        // without it, whose frames its HTTP decoder then reads as another request (found by TunnelFuzz).
        guard head.headers[canonicalForm: "connection"].contains(where: { $0.lowercased() == "upgrade" }) else {
            refusals.refused(
                "badRequest", level: .notice, "tunnel upgrade request without \"Connection: upgrade\" refused (400)",
                logger: logger
            )
            return .refused(status: .badRequest, reason: "an upgrade request says \"Connection: upgrade\"")
        }
        guard !TunnelUpgradeRequest.promisesBody(head) else {
            refusals.refused(
                "badRequest", level: .notice, "tunnel upgrade request announcing a body refused (400)", logger: logger
            )
            return .refused(status: .badRequest, reason: "an upgrade request has no body")
        }
        let certificate = try channel.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self).peerCertificate
        let decision = authenticator.authenticate(head: head, peerCertificate: certificate)
        if case .refused(let status, let reason) = decision {
            // The token is never logged; the claimed cluster name is, since it is what the operator looks for.
            let claimed = head.headers.first(name: TunnelAuthenticator.clusterHeader)
            refusals.refused(
                status == .unauthorized ? "unauthorized" : "forbidden", level: .warning,
                "tunnel refused (\(status.code)): \(reason)", logger: logger,
                metadata: ["tunnel.claimedCluster": "\(claimed ?? "-")"]
            )
        }
        return decision
    }

    private func startSession(
        channel: any Channel,
        cluster: String,
        method: String,
        remote: String,
        logger: Logger
    ) throws {
        var logger = logger
        logger[metadataKey: "cluster.id"] = "\(cluster)"
        let limits = configuration.limits
        let sync = channel.pipeline.syncOperations
        // The refusal handler speaks HTTP/1; after the upgrade the pipeline carries WebSocket frames.
        _ = sync.removeHandler(name: TunnelRefusalHandler.name)
        _ = sync.removeHandler(name: TunnelUpgradeHeadLimit.name)
        try sync.addHandler(
            WebSocketByteStreamHandler(
                masking: false,
                pingInterval: limits.effectiveWebSocketPingInterval,
                maxFrameSize: limits.maxWebSocketFrameSize,
                logger: logger
            )
        )
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: 0),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeaderListSize),
            HTTP2Setting(parameter: .initialWindowSize, value: 1 << 20),
        ]
        let multiplexer = try sync.configureHTTP2Pipeline(
            mode: .client,
            connectionConfiguration: connection,
            streamConfiguration: .init()
        ) { stream in
            // The agent never opens streams (it is the server); refuse any it tries.
            stream.close()
        }
        try sync.addHandler(
            TunnelKeepaliveHandler(interval: limits.pingInterval, timeout: limits.pingTimeout, logger: logger)
        )
        let id = registry.withLockedValue { registry -> UInt64 in
            registry.nextSession += 1
            return registry.nextSession
        }
        let session = TunnelSession(
            id: id,
            cluster: cluster,
            remoteAddress: remote,
            authentication: method,
            channel: channel,
            multiplexer: multiplexer,
            limits: limits,
            logger: logger
        )
        logger.info("tunnel connected", metadata: ["tunnel.session": "\(id)", "tunnel.auth": "\(method)"])
        register(session)
        channel.closeFuture.whenComplete { [self] _ in
            sessionClosed(session, error: "connection closed")
        }
    }
}
