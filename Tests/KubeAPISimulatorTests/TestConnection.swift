import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A plain HTTP/1.1 client connection of the tests' own (URLSession is unreliable on Linux): sends requests and
/// hands back the response parts as they arrive, so watch streams, stalls and dropped connections are visible.
final class TestConnection: @unchecked Sendable {
    enum Part: Sendable {
        case head(status: Int, headers: [(String, String)])
        case body(String)
        case end
        /// The server closed the connection.
        case closed
    }

    struct Response {
        var status: Int
        var headers: [(String, String)]
        var body: String

        func header(_ name: String) -> String? {
            headers.first { $0.0.lowercased() == name.lowercased() }?.1
        }

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
    }

    enum WatchItem {
        case event(type: String, object: [String: Any])
        /// The chunked body ended normally.
        case end
        case closed
        case timeout
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let channel: any Channel
    let port: Int
    private let lock = NIOLock()
    private var queue: [Part] = []
    private var waiter: (id: Int, continuation: CheckedContinuation<Part?, Never>)?
    private var nextWaiterID = 0
    private var pendingText = ""

    private init(channel: any Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    static func connect(port: Int) async throws -> TestConnection {
        let box = NIOLockedValueBox<TestConnection?>(nil)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(Collector(box: box))
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        let connection = TestConnection(channel: channel, port: port)
        box.withLockedValue { $0 = connection }
        return connection
    }

    /// Sends one request; `token` becomes a bearer Authorization header.
    func send(
        _ method: HTTPMethod,
        _ uri: String,
        token: String? = "admin-token",
        headers: [(String, String)] = [],
        body: String? = nil
    ) {
        var httpHeaders = HTTPHeaders()
        httpHeaders.add(name: "Host", value: "127.0.0.1:\(port)")
        if !headers.contains(where: { $0.0.lowercased() == "accept" }) {
            httpHeaders.add(name: "Accept", value: "application/json")
        }
        httpHeaders.add(name: "User-Agent", value: "sim-test/1.0")
        if let token { httpHeaders.add(name: "Authorization", value: "Bearer \(token)") }
        for (name, value) in headers { httpHeaders.add(name: name, value: value) }
        if let body {
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                httpHeaders.add(name: "Content-Type", value: "application/json")
            }
            httpHeaders.add(name: "Content-Length", value: String(body.utf8.count))
        }
        let head = HTTPRequestHead(version: .http1_1, method: method, uri: uri, headers: httpHeaders)
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }

    /// The next response part, or nil after `timeout`.
    func next(timeout: Duration = .seconds(10)) async -> Part? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Part?, Never>) in
            let id: Int? = lock.withLock {
                if !queue.isEmpty {
                    continuation.resume(returning: queue.removeFirst())
                    return nil
                }
                nextWaiterID += 1
                waiter = (nextWaiterID, continuation)
                return nextWaiterID
            }
            guard let id else { return }
            channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)) {
                let expired: CheckedContinuation<Part?, Never>? = self.lock.withLock {
                    guard let waiter = self.waiter, waiter.id == id else { return nil }
                    self.waiter = nil
                    return waiter.continuation
                }
                expired?.resume(returning: nil)
            }
        }
    }

    fileprivate func deliver(_ part: Part) {
        let resumed: CheckedContinuation<Part?, Never>? = lock.withLock {
            if let waiter {
                self.waiter = nil
                return waiter.continuation
            }
            queue.append(part)
            return nil
        }
        resumed?.resume(returning: part)
    }

    /// Reads one whole response.
    func response(timeout: Duration = .seconds(10)) async throws -> Response {
        guard let first = await next(timeout: timeout) else { throw Failure(description: "no response in time") }
        guard case .head(let status, let headers) = first else { throw Failure(description: "expected a head, got \(first)") }
        var body = ""
        while true {
            guard let part = await next(timeout: timeout) else { throw Failure(description: "body did not end in time") }
            switch part {
            case .body(let text): body += text
            case .end: return Response(status: status, headers: headers, body: body)
            case .closed: throw Failure(description: "connection closed mid-body")
            case .head: throw Failure(description: "unexpected second head")
            }
        }
    }

    /// The head of a streamed response.
    func head(timeout: Duration = .seconds(10)) async throws -> (status: Int, headers: [(String, String)]) {
        guard let first = await next(timeout: timeout) else { throw Failure(description: "no response in time") }
        guard case .head(let status, let headers) = first else { throw Failure(description: "expected a head, got \(first)") }
        return (status, headers)
    }

    /// The next watch event line (after `head()`), or how the stream ended.
    func nextWatchItem(timeout: Duration = .seconds(10)) async -> WatchItem {
        while true {
            if let newline = pendingText.firstIndex(of: "\n") {
                let line = String(pendingText[..<newline])
                pendingText = String(pendingText[pendingText.index(after: newline)...])
                guard let json = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
                    let type = json["type"] as? String, let object = json["object"] as? [String: Any]
                else { return .event(type: "UNPARSEABLE:" + line, object: [:]) }
                return .event(type: type, object: object)
            }
            guard let part = await next(timeout: timeout) else { return .timeout }
            switch part {
            case .body(let text): pendingText += text
            case .end: return .end
            case .closed: return .closed
            case .head: return .event(type: "UNEXPECTED-HEAD", object: [:])
            }
        }
    }

    func close() async {
        try? await channel.close()
    }

    /// One request on a fresh connection, closed afterwards.
    static func request(
        port: Int,
        _ method: HTTPMethod,
        _ uri: String,
        token: String? = "admin-token",
        headers: [(String, String)] = [],
        body: String? = nil
    ) async throws -> Response {
        let connection = try await connect(port: port)
        defer { Task { await connection.close() } }
        connection.send(method, uri, token: token, headers: headers, body: body)
        return try await connection.response()
    }
}

/// Feeds the response parts of a channel into its `TestConnection`.
private final class Collector: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart
    let box: NIOLockedValueBox<TestConnection?>
    private var early: [TestConnection.Part] = []

    init(box: NIOLockedValueBox<TestConnection?>) {
        self.box = box
    }

    private func forward(_ part: TestConnection.Part) {
        guard let connection = box.withLockedValue({ $0 }) else {
            early.append(part)
            return
        }
        for earlier in early { connection.deliver(earlier) }
        early.removeAll()
        connection.deliver(part)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            forward(.head(status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }))
        case .body(let buffer):
            forward(.body(String(buffer: buffer)))
        case .end:
            forward(.end)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        forward(.closed)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
