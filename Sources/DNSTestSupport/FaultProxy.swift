import NIOCore
import NIOPosix
import Synchronization

/// A TCP proxy on 127.0.0.1 that a test puts between two peers (a tunnel agent and its host) and controls: pass
/// bytes through, cut every connection with a RST, black-hole the open ones (bytes vanish, no FIN, no RST) as a
/// dead route does, or slow the link down (added latency, limited bandwidth) as a congested one does.
public final class FaultProxy: Sendable {
    private let listener: any Channel
    private let connections = Connections()
    private let link: Link

    /// The open connection pairs, and whether new connections are refused; shared with the accepting channel.
    final class Connections: Sendable {
        let pairs = Mutex<[(client: any Channel, server: any Channel, gate: Gate)]>([])
        let refusing = Mutex(false)
    }

    /// Whether bytes of one connection pair flow.
    final class Gate: Sendable {
        let open = Mutex(true)
    }

    /// How every connection of the proxy is shaped right now: the one-way delay added to each chunk and the
    /// bytes per second each direction may carry (nil: unlimited). Read at each chunk, so a change applies to the
    /// open connections at once.
    final class Link: Sendable {
        struct Shape {
            var latency: TimeAmount = .zero
            var bytesPerSecond: Int?
        }

        let shape = Mutex(Shape())
    }

    public var port: Int { listener.localAddress!.port! }
    /// Connections accepted since the proxy started (or since the last cut).
    public var connectionCount: Int { connections.pairs.withLock { $0.count } }

    public init(targetPort: Int) async throws {
        let connections = self.connections
        let link = Link()
        self.link = link
        listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                guard !connections.refusing.withLock({ $0 }) else {
                    // The route is down: the connection is closed before a byte passes.
                    return inbound.eventLoop.makeFailedFuture(ChannelError.ioOnClosedChannel)
                }
                let gate = Gate()
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        inbound.eventLoop.makeCompletedFuture {
                            try inbound.pipeline.syncOperations.addHandler(
                                Relay(peer: outbound, gate: gate, link: link)
                            )
                            try outbound.pipeline.syncOperations.addHandler(
                                Relay(peer: inbound, gate: gate, link: link)
                            )
                            connections.pairs.withLock { $0.append((inbound, outbound, gate)) }
                            // The client's bytes are read only once the initializer is done, so none are lost.
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Resets every open connection on both sides (SO_LINGER 0, then close sends a RST).
    public func cutWithReset() {
        for pair in connections.pairs.withLock({ pairs in
            defer { pairs.removeAll() }
            return pairs
        }) {
            for channel in [pair.client, pair.server] {
                guard let provider = channel as? any SocketOptionProvider else {
                    channel.close(promise: nil)
                    continue
                }
                provider.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }

    /// From now on, bytes of the open connections are dropped; nothing is closed. New connections pass.
    public func blackHoleOpenConnections() {
        for pair in connections.pairs.withLock({ $0 }) { pair.gate.open.withLock { $0 = false } }
    }

    /// While true, new connections are closed at once instead of relayed (the far side stays unreachable, so a
    /// test can watch the outage before letting the peers meet again).
    public func refuseNewConnections(_ refuse: Bool) {
        connections.refusing.withLock { $0 = refuse }
    }

    /// Slows every connection, open and new, in both directions: each chunk arrives `latency` late, and no faster
    /// than `bytesPerSecond` allows after the chunks before it (nil: no bandwidth limit). Order is kept.
    public func slowDown(latency: Duration, bytesPerSecond: Int? = nil) {
        precondition(bytesPerSecond.map { $0 > 0 } ?? true, "bytesPerSecond must be positive")
        let nanoseconds = latency.components.seconds * 1_000_000_000 + latency.components.attoseconds / 1_000_000_000
        link.shape.withLock { $0 = Link.Shape(latency: .nanoseconds(nanoseconds), bytesPerSecond: bytesPerSecond) }
    }

    /// Back to full speed (chunks already delayed still arrive in order).
    public func restoreSpeed() {
        link.shape.withLock { $0 = Link.Shape() }
    }

    public func shutdown() async {
        cutWithReset()
        try? await listener.close()
    }

    /// Relays one direction of a pair to `peer`, shaped by `link`. Both channels of a pair share an event loop,
    /// so the scheduling state here is confined to it.
    private final class Relay: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let peer: any Channel
        let gate: Gate
        let link: Link
        /// When the last chunk finishes "transmitting" at the limited bandwidth, and when it is delivered: later
        /// chunks are scheduled after both, so a slowed link never reorders bytes.
        private var transmitEnd = NIODeadline.uptimeNanoseconds(0)
        private var lastDue = NIODeadline.uptimeNanoseconds(0)

        init(peer: any Channel, gate: Gate, link: Link) {
            self.peer = peer
            self.gate = gate
            self.link = link
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            guard gate.open.withLock({ $0 }) else { return }
            let shape = link.shape.withLock { $0 }
            let now = NIODeadline.now()
            if shape.latency == .zero && shape.bytesPerSecond == nil && lastDue <= now {
                peer.writeAndFlush(bytes, promise: nil)
                return
            }
            var due = now + shape.latency
            if let rate = shape.bytesPerSecond {
                transmitEnd =
                    max(transmitEnd, now) + .nanoseconds(Int64(bytes.readableBytes) * 1_000_000_000 / Int64(rate))
                due = transmitEnd + shape.latency
            }
            // Strictly after the previous chunk: scheduled tasks due at the same instant may run in any order.
            due = max(due, lastDue + .nanoseconds(1))
            lastDue = due
            let (peer, gate) = (self.peer, self.gate)
            context.eventLoop.scheduleTask(deadline: due) {
                if gate.open.withLock({ $0 }) { peer.writeAndFlush(bytes, promise: nil) }
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            if gate.open.withLock({ $0 }) {
                // A close travels the slowed link too: after the bytes still on their way.
                let peer = self.peer
                if lastDue > NIODeadline.now() {
                    context.eventLoop.scheduleTask(deadline: lastDue + .nanoseconds(1)) { peer.close(promise: nil) }
                } else {
                    peer.close(promise: nil)
                }
            }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
