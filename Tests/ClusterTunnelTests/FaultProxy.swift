import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A TCP proxy on 127.0.0.1 between agent and host that the test controls: pass bytes through, cut every
/// connection with a RST, or black-hole the open ones (bytes vanish, no FIN, no RST) as a dead route does.
final class FaultProxy: Sendable {
    private let listener: any Channel
    private let pairs = NIOLockedValueBox<[(client: any Channel, server: any Channel, gate: Gate)]>([])

    /// Whether bytes of one connection pair flow.
    final class Gate: Sendable {
        let open = NIOLockedValueBox(true)
    }

    var port: Int { listener.localAddress!.port! }
    var connectionCount: Int { pairs.withLockedValue { $0.count } }

    init(targetPort: Int) async throws {
        let pairs = self.pairs
        listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { inbound in
                let gate = Gate()
                return ClientBootstrap(group: inbound.eventLoop)
                    .connect(host: "127.0.0.1", port: targetPort)
                    .flatMap { outbound in
                        inbound.eventLoop.makeCompletedFuture {
                            try inbound.pipeline.syncOperations.addHandler(Relay(peer: outbound, gate: gate))
                            try outbound.pipeline.syncOperations.addHandler(Relay(peer: inbound, gate: gate))
                            pairs.withLockedValue { $0.append((inbound, outbound, gate)) }
                            // The client's bytes are read only once the initializer is done, so none are lost.
                        }
                    }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Resets every open connection on both sides (SO_LINGER 0, then close sends a RST).
    func cutWithReset() {
        for pair in pairs.withLockedValue({ pairs in
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

    /// From now on, bytes of the open connections are dropped; nothing is closed.
    func blackHoleOpenConnections() {
        for pair in pairs.withLockedValue({ $0 }) { pair.gate.open.withLockedValue { $0 = false } }
    }

    func shutdown() async {
        cutWithReset()
        try? await listener.close()
    }

    private final class Relay: ChannelDuplexHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let peer: any Channel
        let gate: Gate

        init(peer: any Channel, gate: Gate) {
            self.peer = peer
            self.gate = gate
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = unwrapInboundIn(data)
            guard gate.open.withLockedValue({ $0 }) else { return }
            peer.writeAndFlush(bytes, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            if gate.open.withLockedValue({ $0 }) { peer.close(promise: nil) }
            context.fireChannelInactive()
        }

        func errorCaught(context: ChannelHandlerContext, error: any Error) {
            context.close(promise: nil)
        }
    }
}
