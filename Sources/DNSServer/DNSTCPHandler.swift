import CMCDNSSys
import DNSAnswer
import NIOCore
import NIOExtras
import RecordStore

/// Answers the length-framed DNS messages of one TCP connection, in order, from the store's current table.
///
/// Synchronous on purpose (STYLE: no actor hop per query): each frame is answered into the event loop's
/// scratch buffer and copied once into the outgoing buffer together with its length prefix.
final class DNSTCPHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var reader: RecordStore.Reader
    /// Keeps `scratch` allocated for as long as this connection uses it.
    private let scratchOwner: TCPScratchBuffers
    private let scratch: UnsafeMutableRawBufferPointer
    /// Set once the connection is on its way out: later frames get no answer.
    private var closing = false
    /// The client's address, read once per connection.
    private var source: RequesterAddress = .unknown
    private let counters: QueryCounters?

    init(store: RecordStore, scratch: TCPScratchBuffers, eventLoop: any EventLoop, counters: QueryCounters? = nil) {
        self.counters = counters
        self.reader = RecordStore.Reader(store)
        self.scratchOwner = scratch
        self.scratch = scratch.buffer(for: eventLoop)
    }

    /// The pipeline of one DNS-over-TCP connection. Also used by the tests on an `EmbeddedChannel`.
    static func addHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations,
        eventLoop: any EventLoop,
        store: RecordStore,
        scratch: TCPScratchBuffers,
        idleTimeout: Duration,
        counters: QueryCounters? = nil
    ) throws {
        // Stop reading while the peer does not read our answers, so a pipelining client cannot make us
        // queue answers without bound; the idle timeout then ends such a connection.
        try pipeline.addHandler(BackPressureHandler())
        // No byte for `idleTimeout` ends the connection, also one stuck between a length prefix and its data.
        try pipeline.addHandler(TCPIdleTimeoutHandler(timeout: TimeAmount(idleTimeout)))
        try pipeline.addHandler(ByteToMessageHandler(LengthFieldBasedFrameDecoder(lengthFieldBitLength: .twoBytes)))
        try pipeline.addHandler(
            DNSTCPHandler(store: store, scratch: scratch, eventLoop: eventLoop, counters: counters)
        )
    }

    func handlerAdded(context: ChannelHandlerContext) {
        source = RequesterAddress(context.channel.remoteAddress)
    }

    func channelActive(context: ChannelHandlerContext) {
        source = RequesterAddress(context.channel.remoteAddress)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        let query = unwrapInboundIn(data)
        let table = reader.table()
        let answer = UnsafeMutableRawBufferPointer(rebasing: scratch[2...])
        var qtype: UInt16 = 0
        let started = mcdns_monotonic_nanoseconds()
        let length = query.withUnsafeReadableBytes { bytes in
            table.respond(to: bytes, transport: .tcp, source: source, into: answer, qtype: &qtype)
        }
        counters?.count(transport: 1, qtype: qtype, response: answer.baseAddress!,
                        length: length <= answer.count ? length : 0)
        counters?.latency(nanoseconds: mcdns_monotonic_nanoseconds() &- started, queries: 1)
        guard length > 0, length <= answer.count else {
            // The responder drops this query; over TCP that means closing, after the answers already queued.
            closeAfterPendingWrites(context: context)
            return
        }
        scratch.storeBytes(of: UInt16(length).bigEndian, toByteOffset: 0, as: UInt16.self)
        var out = context.channel.allocator.buffer(capacity: 2 + length)
        out.writeBytes(UnsafeRawBufferPointer(rebasing: scratch[0..<(2 + length)]))
        context.write(wrapOutboundOut(out), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent:
            // Graceful shutdown: the frames already read have been answered (answering is synchronous);
            // let those answers reach the client, then close.
            closeAfterPendingWrites(context: context)
        case ChannelEvent.inputClosed:
            // The client half-closed after its last query: deliver the answers, then close our side too.
            closeAfterPendingWrites(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset peer, or bytes left over at EOF (a prefix promising more than was sent): nothing to answer.
        closing = true
        context.close(promise: nil)
    }

    private func closeAfterPendingWrites(context: ChannelHandlerContext) {
        guard !closing else { return }
        closing = true
        let channel = context.channel
        // Writes complete in order, so an empty write completes after every answer queued before it.
        context.writeAndFlush(wrapOutboundOut(channel.allocator.buffer(capacity: 0))).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
