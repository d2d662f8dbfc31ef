import NIOCore
import NIOHTTP1

/// Answers every HTTP request that was not upgraded: a refused credential with 401/403, a wrong path with 404, a
/// plain GET of the tunnel path with 426. It answers at the request's head, without waiting for a body that may
/// never come, then closes, since an agent that was refused must not linger.
final class TunnelRefusalHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    static let name = "tunnel.refusal"

    private let state: TunnelServer.ConnectionState
    private var answered = false

    init(state: TunnelServer.ConnectionState) {
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(let head) = unwrapInboundIn(data), !answered else { return }
        answered = true
        respond(to: head, context: context)
    }

    private func respond(to head: HTTPRequestHead, context: ChannelHandlerContext) {
        let status: HTTPResponseStatus
        let message: String
        switch state.decision.withLockedValue({ $0 }) {
        case .refused(let refusedStatus, let reason):
            status = refusedStatus
            message = reason
        case .accepted, nil:
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
            if path == TunnelServer.path {
                status = .upgradeRequired
                message = "the tunnel needs a WebSocket upgrade"
            } else {
                status = .notFound
                message = "no tunnel at \(path); agents dial \(TunnelServer.path)"
            }
        }
        var body = context.channel.allocator.buffer(capacity: message.utf8.count + 1)
        body.writeString(message + "\n")
        let headers = HTTPHeaders([
            ("content-type", "text/plain; charset=utf-8"), ("content-length", "\(body.readableBytes)"),
            ("connection", "close"),
        ])
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { [channel = context.channel] _ in
            channel.close(promise: nil)
        }
    }
}
