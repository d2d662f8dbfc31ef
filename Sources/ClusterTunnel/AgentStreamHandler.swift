import Logging
import NIOCore
import NIOHTTP1

/// The agent's end of one HTTP/2 stream: an allow-listed GET goes to the upstream and its response streams back;
/// anything else gets a 403 `Status`. A reset from the host cancels the upstream request.
///
/// Each body chunk is written only after the previous one left, so a host that reads slowly holds back this
/// stream's upstream through HTTP/2 flow control, and no other stream.
final class AgentStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Request headers worth passing on; the host's own credentials or hop-by-hop headers never are.
    static let forwardedRequestHeaders: Set<String> = ["accept", "user-agent"]
    /// Connection-specific response headers that HTTP/2 forbids.
    static let droppedResponseHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "host",
    ]

    private let upstream: any TunnelUpstream
    private let allowList: TunnelAllowList
    private let logger: Logger
    private var head: HTTPRequestHead?
    private var task: Task<Void, Never>?

    init(upstream: any TunnelUpstream, allowList: TunnelAllowList, logger: Logger) {
        self.upstream = upstream
        self.allowList = allowList
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            handle(head, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        task?.cancel()
        context.close(promise: nil)
    }

    private func handle(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let method = head.method.rawValue
        guard allowList.allows(method: method, target: head.uri) else {
            logger.notice("refused \(method) \(head.uri) from the host: not a read-only request on the allow-list")
            Self.respond(
                channel: context.channel,
                status: .forbidden,
                body: KubernetesStatus.failure(
                    code: 403,
                    reason: "Forbidden",
                    message:
                        "the mcdns agent forwards only list and watch of services, endpointslices, nodes and serviceexports, and discovery; \(method) \(head.uri) is refused"
                )
            )
            return
        }
        let forwarded = Forwarded(
            channel: context.channel,
            upstream: upstream,
            logger: logger,
            method: method,
            path: head.uri,
            headers: head.headers.filter { Self.forwardedRequestHeaders.contains($0.name.lowercased()) }
                .map { ($0.name, $0.value) }
        )
        task = Task.detached { await forwarded.run() }
    }
}

/// One accepted request on its way to the upstream and back, run in its own task.
private struct Forwarded: Sendable {
    let channel: any Channel
    let upstream: any TunnelUpstream
    let logger: Logger
    let method: String
    let path: String
    let headers: [(String, String)]

    func run() async {
        var headSent = false
        do {
            let response = try await upstream.forward(method: method, path: path, headers: headers)
            let responseHeaders = HTTPHeaders(
                response.headers.filter { !AgentStreamHandler.droppedResponseHeaders.contains($0.0.lowercased()) }
            )
            let status = HTTPResponseStatus(statusCode: response.status)
            try await channel.writeAndFlush(
                HTTPServerResponsePart.head(
                    HTTPResponseHead(version: .http1_1, status: status, headers: responseHeaders)
                )
            ).get()
            headSent = true
            for try await chunk in response.body {
                try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(chunk))).get()
            }
            try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
        } catch {
            if Task.isCancelled { return }
            logger.notice("upstream request GET \(path) failed: \(error)")
            if headSent {
                // Mid-body: only a reset tells the host the body is incomplete.
                channel.close(promise: nil)
            } else {
                AgentStreamHandler.respond(
                    channel: channel,
                    status: .badGateway,
                    body: KubernetesStatus.failure(
                        code: 502,
                        reason: "BadGateway",
                        message: "the mcdns agent could not reach its API server: \(error)"
                    )
                )
            }
        }
    }
}

extension AgentStreamHandler {
    static func respond(channel: any Channel, status: HTTPResponseStatus, body: [UInt8]) {
        let headers = HTTPHeaders([("content-type", "application/json"), ("content-length", "\(body.count)")])
        channel.write(
            HTTPServerResponsePart.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)),
            promise: nil
        )
        channel.write(HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil)
        channel.writeAndFlush(HTTPServerResponsePart.end(nil), promise: nil)
    }
}
