import ClusterTunnel
import NIOCore
import NIOHTTP1
import NIOPosix

/// The agent's upstream in tests: plain HTTP/1.1 to the loopback API server, one connection per request, the body
/// streamed as it arrives; ending the body stream early closes the connection (as a cancelled watch must).
struct LoopbackHTTPUpstream: TunnelUpstream {
    let port: Int

    func forward(method: String, path: String, headers: [(String, String)]) async throws -> TunnelResponse {
        let (body, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let headPromise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: HTTPResponseHead.self)
        let channel = try await ClientBootstrap(group: headPromise.futureResult.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(
                        ResponseHandler(head: headPromise, body: continuation)
                    )
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        continuation.onTermination = { _ in channel.close(promise: nil) }
        var requestHeaders = HTTPHeaders(headers)
        requestHeaders.add(name: "host", value: "127.0.0.1")
        channel.write(
            HTTPClientRequestPart.head(
                HTTPRequestHead(
                    version: .http1_1,
                    method: HTTPMethod(rawValue: method),
                    uri: path,
                    headers: requestHeaders
                )
            ),
            promise: nil
        )
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        let head = try await headPromise.futureResult.get()
        return TunnelResponse(
            status: Int(head.status.code),
            headers: head.headers.map { ($0.name, $0.value) },
            body: body
        )
    }

    private final class ResponseHandler: ChannelInboundHandler {
        typealias InboundIn = HTTPClientResponsePart

        let head: EventLoopPromise<HTTPResponseHead>
        let body: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
        var done = false
        var headDone = false

        init(head: EventLoopPromise<HTTPResponseHead>, body: AsyncThrowingStream<ByteBuffer, any Error>.Continuation) {
            self.head = head
            self.body = body
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let response):
                headDone = true
                head.succeed(response)
            case .body(let bytes): body.yield(bytes)
            case .end:
                done = true
                body.finish()
                context.close(promise: nil)
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            struct Closed: Error {}
            if !headDone { head.fail(Closed()) }
            if !done { body.finish(throwing: Closed()) }
        }
    }
}
