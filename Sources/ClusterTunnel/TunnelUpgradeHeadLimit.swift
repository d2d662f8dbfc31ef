import Logging
import NIOCore

/// Caps the bytes a connection may send before its WebSocket upgrade (the request line and headers) at
/// `TunnelLimits.maxHeaderListSize`: NIOHTTP1's decoder alone takes heads up to 80 KiB. Beyond the cap the
/// connection gets `431` and is closed. Sits between TLS and the HTTP/1 decoder, and leaves once upgraded.
final class TunnelUpgradeHeadLimit: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let name = "tunnel.upgradeHeadLimit"

    private let limit: Int
    private let logger: Logger
    private let refusals: TunnelRefusalLog?
    private var received = 0
    private var refused = false

    init(limit: Int, logger: Logger, refusals: TunnelRefusalLog? = nil) {
        self.limit = limit
        self.logger = logger
        self.refusals = refusals
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        received += unwrapInboundIn(data).readableBytes
        guard received > limit else {
            context.fireChannelRead(data)
            return
        }
        refused = true
        let message = "tunnel upgrade request larger than \(limit) bytes refused (431)"
        if let refusals {
            refusals.refused("headerTooLarge", level: .notice, message, logger: logger)
        } else {
            logger.notice("\(message)")
        }
        let body = "the upgrade request exceeds the limit of \(limit) bytes\n"
        let answer =
            "HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: text/plain; charset=utf-8\r\n"
            + "connection: close\r\ncontent-length: \(body.utf8.count)\r\n\r\n" + body
        var buffer = context.channel.allocator.buffer(capacity: answer.utf8.count)
        buffer.writeString(answer)
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }
}
