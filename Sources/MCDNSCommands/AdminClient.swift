import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A small HTTP/1.1 client over SwiftNIO for the admin API: one request (a GET, or a bodiless POST) per connection, plain HTTP on the address of
/// `--admin`. Small on purpose: the CLI needs nothing async-http-client adds (TLS, pools, redirects), and NIO is
/// already a dependency.
struct AdminClient {
    let base: AdminURL
    let token: String?
    let timeout: TimeAmount

    struct Reply {
        let status: Int
        let body: [UInt8]
    }

    func get(_ pathAndQuery: String, method: HTTPMethod = .GET) async throws(CommandFailure) -> Reply {
        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: Reply.self)
        let host = base.host
        let port = base.port
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: base.hostHeader)
        headers.add(name: "Accept", value: "application/json")
        headers.add(name: "Connection", value: "close")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        if method == .POST { headers.add(name: "Content-Length", value: "0") }
        let head = HTTPRequestHead(
            version: .http1_1,
            method: method,
            uri: base.pathPrefix + pathAndQuery,
            headers: headers
        )
        let connected = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ReplyCollector(promise: promise))
                }
            }
            .connect(host: host, port: port)
        connected.whenSuccess { channel in
            channel.write(HTTPClientRequestPart.head(head), promise: nil)
            channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
            channel.eventLoop.scheduleTask(in: timeout) {
                promise.fail(ChannelError.connectTimeout(timeout))
                channel.close(promise: nil)
            }
        }
        connected.whenFailure { promise.fail($0) }
        do {
            return try await promise.futureResult.get()
        } catch {
            throw .unreachable(
                "cannot reach the admin API at \(base.text) (\(error)) — is `mcdns serve` running? "
                    + "use --admin URL (or MCDNS_ADMIN) to point at its listen.admin address"
            )
        }
    }

    /// GETs and decodes a JSON body, turning error statuses into failures that say what to do.
    func fetch<T: Decodable>(
        _ type: T.Type,
        _ pathAndQuery: String,
        method: HTTPMethod = .GET
    ) async throws(CommandFailure) -> T {
        let reply = try await get(pathAndQuery, method: method)
        let message =
            (try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body)))?.error
            ?? String(decoding: reply.body.prefix(300), as: UTF8.self)
        switch reply.status {
        case 200..<300:
            do {
                return try JSONDecoder().decode(T.self, from: Data(reply.body))
            } catch {
                throw .failed(
                    "the admin API at \(base.text) sent a body this mcdns cannot read (\(error)); "
                        + "are the CLI and the daemon the same version?"
                )
            }
        case 401, 403:
            throw .unauthorized("the admin API at \(base.text) refused the request: \(message)")
        case 404:
            throw .notFound(message)
        case 400..<500:
            throw .badRequest(message)
        default:
            throw .failed("the admin API at \(base.text) answered \(reply.status): \(message)")
        }
    }

    struct ErrorBody: Decodable {
        let error: String
    }
}

/// Collects one HTTP response.
private final class ReplyCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<AdminClient.Reply>
    var status = 0
    var body: [UInt8] = []

    init(promise: EventLoopPromise<AdminClient.Reply>) {
        self.promise = promise
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(var buffer): body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            promise.succeed(AdminClient.Reply(status: status, body: body))
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.inputClosed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
