import NIOCore
import NIOHTTP1

/// The host's end of one HTTP/2 stream: hands the response head to the waiting request and the body chunks to
/// its stream, and turns a reset or a broken tunnel into an error on whichever is still waiting.
final class TunnelStreamClientHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    struct Head: Sendable {
        var status: Int
        var headers: [(String, String)]
    }

    private let head: EventLoopPromise<Head>
    private let body: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let path: String
    private let timeToFirstByte: TimeAmount
    private var firstByteDeadline: Scheduled<Void>?
    private var headReceived = false
    private var ended = false

    init(
        path: String,
        timeToFirstByte: TimeAmount,
        head: EventLoopPromise<Head>,
        body: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    ) {
        self.path = path
        self.timeToFirstByte = timeToFirstByte
        self.head = head
        self.body = body
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let path = self.path
        let seconds = Double(timeToFirstByte.nanoseconds) / 1e9
        firstByteDeadline = context.eventLoop.scheduleTask(in: timeToFirstByte) {
            let (handler, context) = loopBound.value
            handler.fail(TunnelError.timeToFirstByteExceeded(path: path, seconds: seconds))
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let response):
            firstByteDeadline?.cancel()
            headReceived = true
            head.succeed(Head(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }))
        case .body(let bytes):
            body.yield(bytes)
        case .end:
            ended = true
            body.finish()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(TunnelError.streamReset(path: path))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error)
        context.close(promise: nil)
    }

    private func fail(_ error: any Error) {
        firstByteDeadline?.cancel()
        if !headReceived {
            headReceived = true
            head.fail(error)
        }
        if !ended {
            ended = true
            body.finish(throwing: error)
        }
    }
}
