public import Foundation
import Logging
import NIOCore
import NIOConcurrencyHelpers
import NIOHTTP1
import NIOHTTP2

/// One authenticated, upgraded agent connection as the host uses it: an HTTP/2 client over which each API request
/// is its own stream, with its own flow control.
///
/// A session is active until its connection closes or a newer session for the same cluster replaces it. A replaced
/// session stops at once: it takes no new request, sends the agent a GOAWAY and closes, resetting its open streams
/// (their readers see the stream fail and ask again on the newest session), so nothing it still sends is
/// delivered: a session opened with a stolen token stops feeding the host the moment the member's agent is back.
public final class TunnelSession: Sendable {
    public enum State: Sendable, Equatable {
        case active
        case draining
        case closed
    }

    private struct Mutable {
        var state: State = .active
        var openStreams = 0
    }

    /// Increases with every session the server accepts; tells a reconnect's new session from the old one.
    public let id: UInt64
    public let cluster: String
    public let remoteAddress: String
    public let authentication: String
    public let since: Date

    private let channel: any Channel
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    private let limits: TunnelLimits
    private let logger: Logger
    private let mutable = NIOLockedValueBox(Mutable())

    init(
        id: UInt64,
        cluster: String,
        remoteAddress: String,
        authentication: String,
        channel: any Channel,
        multiplexer: NIOHTTP2Handler.StreamMultiplexer,
        limits: TunnelLimits,
        logger: Logger
    ) {
        self.id = id
        self.cluster = cluster
        self.remoteAddress = remoteAddress
        self.authentication = authentication
        self.since = Date()
        self.channel = channel
        self.multiplexer = multiplexer
        self.limits = limits
        self.logger = logger
        channel.closeFuture.whenComplete { [mutable] _ in mutable.withLockedValue { $0.state = .closed } }
    }

    public var state: State { mutable.withLockedValue { $0.state } }

    /// Streams open right now.
    public var openStreams: Int { mutable.withLockedValue { $0.openStreams } }

    /// Completes when the connection has closed.
    public func closed() async {
        try? await channel.closeFuture.get()
    }

    /// Sends one request on a new stream and returns once its response head has arrived; the body streams after.
    /// Cancelling the task, or dropping the body stream before its end, resets the stream (RST_STREAM) and leaves
    /// the other streams of the tunnel alone.
    public func request(
        method: String = "GET",
        path: String,
        headers: [(String, String)] = []
    ) async throws -> TunnelResponse {
        let admitted: Result<Void, TunnelError> = mutable.withLockedValue { mutable in
            guard mutable.state == .active else { return .failure(.sessionClosed(cluster: cluster)) }
            guard mutable.openStreams < limits.maxConcurrentStreams else {
                return .failure(.tooManyStreams(cluster: cluster, limit: limits.maxConcurrentStreams))
            }
            mutable.openStreams += 1
            return .success(())
        }
        try admitted.get()

        let headPromise = channel.eventLoop.makePromise(of: TunnelStreamClientHandler.Head.self)
        let (body, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let timeToFirstByte = limits.timeToFirstByte
        let streamChannel: any Channel
        do {
            streamChannel = try await multiplexer.createStreamChannel { streamChannel in
                streamChannel.eventLoop.makeCompletedFuture {
                    try streamChannel.pipeline.syncOperations.addHandlers(
                        HTTP2FramePayloadToHTTP1ClientCodec(httpProtocol: .https),
                        TunnelStreamClientHandler(
                            path: path,
                            timeToFirstByte: timeToFirstByte,
                            head: headPromise,
                            body: continuation
                        )
                    )
                }
            }.get()
        } catch {
            streamEnded()
            headPromise.fail(error)
            throw error
        }
        streamChannel.closeFuture.whenComplete { [self] _ in streamEnded() }
        // A reader that stops early (cancelled, or simply dropped the stream) resets the stream; after a clean
        // end the stream channel is already closed and this does nothing.
        continuation.onTermination = { _ in streamChannel.close(promise: nil) }

        var requestHeaders = HTTPHeaders(headers)
        if !requestHeaders.contains(name: "host") { requestHeaders.add(name: "host", value: cluster) }
        let head = HTTPRequestHead(
            version: .http1_1,
            method: HTTPMethod(rawValue: method),
            uri: path,
            headers: requestHeaders
        )
        return try await withTaskCancellationHandler {
            streamChannel.write(HTTPClientRequestPart.head(head), promise: nil)
            try await streamChannel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
            let response = try await headPromise.futureResult.get()
            return TunnelResponse(status: response.status, headers: response.headers, body: body)
        } onCancel: {
            streamChannel.close(promise: nil)
        }
    }

    private func streamEnded() {
        let closeNow = mutable.withLockedValue { mutable -> Bool in
            mutable.openStreams -= 1
            return mutable.state == .draining && mutable.openStreams == 0
        }
        if closeNow {
            channel.close(promise: nil)
        }
    }

    /// Stops taking requests, tells the agent with a GOAWAY, and closes the connection right after it: the open
    /// streams are reset and deliver nothing more.
    func retire(reason: String) {
        let openStreams: Int? = mutable.withLockedValue { mutable in
            guard mutable.state == .active else { return nil }
            mutable.state = .draining
            return mutable.openStreams
        }
        guard let openStreams else { return }
        logger.info(
            "closing the replaced tunnel session: \(reason)", metadata: ["tunnel.openStreams": "\(openStreams)"]
        )
        let goAway = HTTP2Frame(
            streamID: .rootStream,
            payload: .goAway(lastStreamID: .rootStream, errorCode: .noError, opaqueData: nil)
        )
        channel.writeAndFlush(goAway).whenComplete { [channel] _ in channel.close(promise: nil) }
    }

    /// Closes the connection at once (server shutdown).
    func close() {
        channel.close(promise: nil)
    }
}
