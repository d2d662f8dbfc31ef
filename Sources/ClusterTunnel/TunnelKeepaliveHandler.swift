import Logging
import NIOCore
import NIOHTTP2

/// Sends an HTTP/2 PING every `interval` and closes the connection when one stays unanswered for `timeout`.
///
/// Both ends run it: a link black-holed without a FIN sends no error, so only a missing PING answer reveals it.
/// It sits after `NIOHTTP2Handler`, which answers the peer's PINGs itself and passes connection-level frames
/// (PING acks, GOAWAY) on to here. A GOAWAY from the peer is reported through `onGoAway`.
final class TunnelKeepaliveHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    private let interval: TimeAmount
    private let timeout: TimeAmount
    private let logger: Logger
    private let onGoAway: @Sendable () -> Void
    private var pingTask: RepeatedTask?
    private var deadline: Scheduled<Void>?
    private var outstanding: HTTP2PingData?
    private var counter: UInt64 = 0

    init(interval: TimeAmount, timeout: TimeAmount, logger: Logger, onGoAway: @escaping @Sendable () -> Void = {}) {
        self.interval = interval
        self.timeout = timeout
        self.logger = logger
        self.onGoAway = onGoAway
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    private func start(context: ChannelHandlerContext) {
        guard pingTask == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            let (handler, context) = loopBound.value
            handler.sendPing(context: context, loopBound: loopBound)
        }
    }

    private func stop() {
        pingTask?.cancel()
        pingTask = nil
        deadline?.cancel()
        deadline = nil
    }

    private func sendPing(
        context: ChannelHandlerContext,
        loopBound: NIOLoopBound<(TunnelKeepaliveHandler, ChannelHandlerContext)>
    ) {
        // One PING in flight at a time: the deadline of the first unanswered one is what counts.
        guard outstanding == nil else { return }
        counter &+= 1
        let data = HTTP2PingData(withInteger: counter)
        outstanding = data
        let timeout = self.timeout
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            let (handler, context) = loopBound.value
            handler.logger.warning(
                "tunnel peer did not answer an HTTP/2 PING within the ping timeout; closing the connection",
                metadata: ["tunnel.pingTimeoutMs": "\(timeout.nanoseconds / 1_000_000)"]
            )
            handler.stop()
            context.close(promise: nil)
        }
        context.writeAndFlush(
            wrapOutboundOut(HTTP2Frame(streamID: .rootStream, payload: .ping(data, ack: false))),
            promise: nil
        )
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .ping(let data, ack: true) where data == outstanding:
            outstanding = nil
            deadline?.cancel()
            deadline = nil
        case .goAway:
            onGoAway()
        default:
            break
        }
        context.fireChannelRead(data)
    }
}
