import Logging
import NIOCore
import NIOWebSocket

/// Turns WebSocket binary frames into a plain byte stream and back, so HTTP/2 can run over the upgraded
/// connection as if over TCP.
///
/// It answers pings, sends its own pings so middleboxes do not idle the connection out, and honours close: a close
/// frame from the peer is answered and the connection closed; closing the channel sends a close frame first.
/// The agent is the WebSocket client and must mask what it sends (RFC 6455 §5.3); the host must not.
final class WebSocketByteStreamHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    private let masking: Bool
    private let pingInterval: TimeAmount
    private let maxFrameSize: Int
    private let logger: Logger
    private var pingTask: RepeatedTask?
    private var sentClose = false

    init(masking: Bool, pingInterval: TimeAmount, maxFrameSize: Int, logger: Logger) {
        self.masking = masking
        self.pingInterval = pingInterval
        self.maxFrameSize = maxFrameSize
        self.logger = logger
    }

    private var maskKey: WebSocketMaskingKey? { masking ? .random() : nil }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startPinging(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        startPinging(context: context)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        pingTask?.cancel()
        pingTask = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        pingTask?.cancel()
        pingTask = nil
        context.fireChannelInactive()
    }

    private func startPinging(context: ChannelHandlerContext) {
        guard pingTask == nil else { return }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        pingTask = context.eventLoop.scheduleRepeatedTask(initialDelay: pingInterval, delay: pingInterval) { _ in
            let (handler, context) = loopBound.value
            let frame = WebSocketFrame(
                fin: true,
                opcode: .ping,
                maskKey: handler.maskKey,
                data: context.channel.allocator.buffer(capacity: 0)
            )
            context.writeAndFlush(handler.wrapOutboundOut(frame), promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .binary, .continuation:
            let bytes = frame.unmaskedData
            if bytes.readableBytes > 0 { context.fireChannelRead(wrapInboundOut(bytes)) }
        case .ping:
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: maskKey, data: frame.unmaskedData)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            // Liveness is the HTTP/2 PING's job; our own pings only keep middleboxes awake.
            break
        case .connectionClose:
            logger.debug("WebSocket close frame received; closing the tunnel connection")
            sendClose(context: context, code: .normalClosure)
            context.close(promise: nil)
        default:
            // Text frames (or reserved opcodes) have no meaning in the tunnel: the peer speaks something else.
            logger.notice(
                "WebSocket frame with opcode \(frame.opcode) on the tunnel; closing (only binary frames carry HTTP/2)"
            )
            sendClose(context: context, code: .protocolError)
            context.close(promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var bytes = unwrapOutboundIn(data)
        // The peer's decoder refuses frames above its maximum size, so large writes go out as several frames.
        while bytes.readableBytes > maxFrameSize, let slice = bytes.readSlice(length: maxFrameSize) {
            let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: maskKey, data: slice)
            context.write(wrapOutboundOut(frame), promise: nil)
        }
        let frame = WebSocketFrame(fin: true, opcode: .binary, maskKey: maskKey, data: bytes)
        context.write(wrapOutboundOut(frame), promise: promise)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .all, context.channel.isActive { sendClose(context: context, code: .normalClosure) }
        context.close(mode: mode, promise: promise)
    }

    private func sendClose(context: ChannelHandlerContext, code: WebSocketErrorCode) {
        guard !sentClose else { return }
        sentClose = true
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: code)
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: maskKey, data: payload)
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }
}
