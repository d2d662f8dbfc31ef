import Foundation
public import Logging
public import NIOCore
import NIOConcurrencyHelpers
import NIOHTTP1
import NIOHTTP2
public import NIOPosix
import NIOSSL
import NIOWebSocket

/// The member's end of the reverse tunnel (DESIGN §6): dials the host over TLS with the host's CA pinned,
/// authenticates, upgrades to WebSocket, then serves HTTP/2 to the host, forwarding allow-listed GETs to its
/// upstream (its own API server). Reconnects forever with jittered backoff.
public final class TunnelAgent: Sendable {
    private let configuration: TunnelAgentConfiguration
    private let upstream: any TunnelUpstream
    private let allowList = TunnelAllowList()
    private let group: any EventLoopGroup
    private let logger: Logger
    private let established = NIOLockedValueBox(0)

    public init(
        configuration: TunnelAgentConfiguration,
        upstream: any TunnelUpstream,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger
    ) {
        self.configuration = configuration
        self.upstream = upstream
        self.group = group
        var logger = logger
        logger[metadataKey: "cluster.id"] = "\(configuration.cluster)"
        logger[metadataKey: "tunnel.host"] = "\(configuration.host):\(configuration.port)"
        self.logger = logger
    }

    /// Tunnels established (upgrades completed) since the agent started.
    public var connectionsEstablished: Int { established.withLockedValue { $0 } }

    /// Dials, serves, and dials again, until the task is cancelled.
    public func run() async {
        var backoff = configuration.backoff
        while !Task.isCancelled {
            var connectedFor: Duration?
            var replaced = false
            do {
                let connection = try await dial()
                established.withLockedValue { $0 += 1 }
                logger.info("tunnel connected to the host")
                let start = ContinuousClock.now
                await withTaskCancellationHandler {
                    try? await connection.channel.closeFuture.get()
                } onCancel: {
                    connection.channel.close(promise: nil)
                }
                connectedFor = ContinuousClock.now - start
                replaced = connection.outcome.replaced
                logger.notice(
                    replaced
                        ? "the host replaced this tunnel with a newer connection for the cluster"
                        : "tunnel to the host closed",
                    metadata: ["tunnel.connectedSeconds": "\(connectedFor?.components.seconds ?? 0)"]
                )
            } catch {
                logger.warning("tunnel to the host failed: \(Self.explain(error))")
            }
            if Task.isCancelled { break }
            let delay =
                replaced
                ? backoff.replaced() : backoff.nextDelay(connectedFor: connectedFor) { Double.random(in: $0) }
            logger.info(
                "reconnecting to the host",
                metadata: [
                    "tunnel.delayMs":
                        "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)"
                ]
            )
            try? await Task.sleep(for: delay)
        }
    }

    private static func explain(_ error: any Error) -> String {
        if error is NIOSSLError || error is BoringSSLError {
            return "TLS handshake failed: \(error) (is --ca-file the CA that signed the host's certificate?)"
        }
        return "\(error)"
    }

    /// The result of one dial, completed once: upgraded, or failed with the reason.
    final class DialOutcome: Sendable {
        private struct State {
            var done = false
            var replaced = false
        }

        let promise: EventLoopPromise<Void>
        private let state = NIOLockedValueBox(State())

        init(promise: EventLoopPromise<Void>) {
            self.promise = promise
        }

        func succeed() {
            if state.withLockedValue({ state in
                defer { state.done = true }
                return !state.done
            }) {
                promise.succeed(())
            }
        }

        func fail(_ error: any Error) {
            if state.withLockedValue({ state in
                defer { state.done = true }
                return !state.done
            }) {
                promise.fail(error)
            }
        }

        func markReplaced() { state.withLockedValue { $0.replaced = true } }
        var replaced: Bool { state.withLockedValue { $0.replaced } }
    }

    struct Connection {
        var channel: any Channel
        var outcome: DialOutcome
    }

    /// One dial: TCP, TLS (host CA pinned), upgrade; returns once the tunnel is up.
    func dial() async throws -> Connection {
        let token: String?
        var tls = TLSConfiguration.makeClientConfiguration()
        TunnelTLS.restrict(&tls)
        tls.trustRoots = .certificates(configuration.hostCertificateAuthority)
        tls.certificateVerification = .fullVerification
        switch configuration.credential {
        case .tokenFile(let file):
            token = try TunnelAgentConfiguration.readToken(file)
        case .clientCertificate(let chain, let key):
            token = nil
            tls.certificateChain = chain.map { .certificate($0) }
            tls.privateKey = .privateKey(key)
        }
        let sslContext = try NIOSSLContext(configuration: tls)
        let host = configuration.host
        let serverHostname = host.isIPAddress ? nil : host
        let limits = configuration.limits
        let cluster = configuration.cluster
        let eventLoop = group.next()
        let outcome = DialOutcome(promise: eventLoop.makePromise())
        let logger = self.logger

        let channel = try await ClientBootstrap(group: eventLoop)
            .connectTimeout(limits.handshakeTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(NIOSSLClientHandler(context: sslContext, serverHostname: serverHostname))
                    try sync.addHandler(TunnelTLSErrorLogger(logger: logger, peer: "host"))
                    let upgrader = NIOWebSocketClientUpgrader(
                        maxFrameSize: limits.maxWebSocketFrameSize,
                        automaticErrorHandling: true,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try self.startServing(channel: channel, outcome: outcome)
                                outcome.succeed()
                            }
                        }
                    )
                    // The host may send its HTTP/2 preface in the same read as the 101: those bytes belong to the
                    // tunnel, so they are forwarded, not dropped (the default).
                    try sync.addHTTPClientHandlers(
                        leftOverBytesStrategy: .forwardBytes,
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in })
                    )
                    try sync.addHandler(
                        AgentUpgradeRequestHandler(host: host, cluster: cluster, token: token, outcome: outcome),
                        name: AgentUpgradeRequestHandler.name
                    )
                }
            }
            .connect(host: host, port: configuration.port)
            .get()
        let deadline = channel.eventLoop.scheduleTask(in: limits.handshakeTimeout) {
            outcome.fail(TunnelError.configuration("the tunnel handshake did not finish within the handshake timeout"))
            channel.close(promise: nil)
        }
        channel.closeFuture.whenComplete { _ in
            outcome.fail(TunnelError.configuration("the host closed the connection during the handshake"))
        }
        do {
            try await outcome.promise.futureResult.get()
            deadline.cancel()
        } catch {
            deadline.cancel()
            channel.close(promise: nil)
            throw error
        }
        return Connection(channel: channel, outcome: outcome)
    }

    private func startServing(channel: any Channel, outcome: DialOutcome) throws {
        let limits = configuration.limits
        let sync = channel.pipeline.syncOperations
        _ = sync.removeHandler(name: AgentUpgradeRequestHandler.name)
        try sync.addHandler(
            WebSocketByteStreamHandler(
                masking: true,
                pingInterval: limits.effectiveWebSocketPingInterval,
                maxFrameSize: limits.maxWebSocketFrameSize,
                logger: logger
            )
        )
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: limits.maxConcurrentStreams),
            HTTP2Setting(parameter: .maxHeaderListSize, value: limits.maxHeaderListSize),
            HTTP2Setting(parameter: .initialWindowSize, value: 65_535),
        ]
        let upstream = self.upstream
        let allowList = self.allowList
        let logger = self.logger
        _ = try sync.configureHTTP2Pipeline(
            mode: .server,
            connectionConfiguration: connection,
            streamConfiguration: .init()
        ) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandlers(
                    HTTP2FramePayloadToHTTP1ServerCodec(),
                    AgentStreamHandler(upstream: upstream, allowList: allowList, logger: logger)
                )
            }
        }
        try sync.addHandler(
            TunnelKeepaliveHandler(interval: limits.pingInterval, timeout: limits.pingTimeout, logger: logger) {
                outcome.markReplaced()
            }
        )
    }
}

extension String {
    /// An IPv4 or IPv6 literal, for which TLS sends no SNI (RFC 6066 §3) and the certificate needs an IP SAN.
    var isIPAddress: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, self, &v4) == 1 || inet_pton(AF_INET6, self, &v6) == 1
    }
}
