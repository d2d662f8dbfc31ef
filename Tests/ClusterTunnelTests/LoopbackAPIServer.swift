import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny HTTP/1.1 server on 127.0.0.1 standing in for a member's API server until the simulator is merged:
/// `/api/v1/services` answers a fixed list, `…?watch=1` keeps the body open and sends what the test `emit`s,
/// `…?big=1` sends `bigSize` bytes. It records every request path it saw.
final class LoopbackAPIServer: Sendable {
    static let serviceList = #"{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[]}"#
    static let bigSize = 4 << 20

    private let channel: any Channel
    private let watchers = NIOLockedValueBox<[any Channel]>([])
    private let seen = NIOLockedValueBox<[String]>([])

    var port: Int { channel.localAddress!.port! }
    var requests: [String] { seen.withLockedValue { $0 } }
    var watcherCount: Int { watchers.withLockedValue { $0.filter(\.isActive).count } }

    init() async throws {
        let watchers = self.watchers
        let seen = self.seen
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(watchers: watchers, seen: seen))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    /// Sends one line to every open watch.
    func emit(_ line: String) {
        for watcher in watchers.withLockedValue({ $0 }) where watcher.isActive {
            watcher.writeAndFlush(
                HTTPServerResponsePart.body(.byteBuffer(ByteBuffer(string: line + "\n"))),
                promise: nil
            )
        }
    }

    func shutdown() async {
        for watcher in watchers.withLockedValue({ $0 }) { try? await watcher.close() }
        try? await channel.close()
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let watchers: NIOLockedValueBox<[any Channel]>
        let seen: NIOLockedValueBox<[String]>
        var uri = ""

        init(watchers: NIOLockedValueBox<[any Channel]>, seen: NIOLockedValueBox<[String]>) {
            self.watchers = watchers
            self.seen = seen
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                uri = head.uri
                seen.withLockedValue { $0.append(head.uri) }
            case .body:
                break
            case .end:
                respond(context: context)
            }
        }

        private func respond(context: ChannelHandlerContext) {
            let path = uri.split(separator: "?").first.map(String.init) ?? uri
            if uri.contains("watch=1") {
                let head = HTTPResponseHead(
                    version: .http1_1,
                    status: .ok,
                    headers: ["content-type": "application/json", "transfer-encoding": "chunked"]
                )
                context.writeAndFlush(wrapOutboundOut(.head(head)), promise: nil)
                watchers.withLockedValue { $0.append(context.channel) }
                return
            }
            let body: ByteBuffer
            switch uri.contains("big=1") ? "/big" : path {
            case "/api/v1/services", "/api/v1/nodes":
                body = ByteBuffer(string: LoopbackAPIServer.serviceList)
            case "/big":
                body = ByteBuffer(repeating: UInt8(ascii: "x"), count: LoopbackAPIServer.bigSize)
            default:
                body = ByteBuffer(string: #"{"kind":"Status","code":404}"#)
            }
            let status: HTTPResponseStatus = path.hasPrefix("/api/v1/") ? .ok : .notFound
            let head = HTTPResponseHead(
                version: .http1_1,
                status: status,
                headers: ["content-type": "application/json", "content-length": "\(body.readableBytes)"]
            )
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
