import CMCDNSSys
import DNSAnswer
import DNSWire
import NIOCore
import RecordStore

/// One DNS-over-TCP connection: splits the 2-byte length framing, answers each message in order from the
/// store's current table, and enforces the connection's `TCPLimits`.
///
/// Synchronous on purpose (STYLE: no actor hop per query): each frame is answered into the event loop's
/// scratch buffer and copied once into the outgoing buffer together with its length prefix.
///
/// Deadlines (one timer per connection, moved lazily): a message must arrive whole within `messageTimeout` of
/// its first byte, however its bytes trickle in; with no message under way, the connection closes after
/// `idleTimeout` without a query or an answer taken by the client. Back pressure: at most `maxPipelined`
/// answers wait for the client to take them, and while they do (or NIO's write buffer is above its high mark)
/// the handler asks for no more bytes; answers that stay untaken for `idleTimeout` close the connection.
final class DNSTCPHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var reader: RecordStore.Reader
    /// The zone counter slots of the table last answered from (made again only when the table changes).
    private var zoneTable: AnswerTable?
    private var zoneSlots: [Int] = []
    /// Keeps `scratch` allocated for as long as this connection uses it.
    private let scratchOwner: TCPScratchBuffers
    private let scratch: UnsafeMutableRawBufferPointer
    private let limits: TCPLimits
    private let idleTimeout: TimeAmount
    private let messageTimeout: TimeAmount
    /// `limits.keepaliveTimeout`, read once per connection.
    private let keepaliveTimeout: UInt16
    private let registration: TCPConnectionRegistry.Entry?
    private let counters: QueryCounters?
    /// Serves AXFR and IXFR; nil when `transfer:` is not configured (the table then answers them REFUSED).
    private let transfer: ZoneTransfer?
    /// The client's address, read once per connection.
    private var source: RequesterAddress = .unknown
    /// A zone transfer is being made off the event loop: later frames wait for its messages to be written.
    private var transferring = false
    /// The hand-over of the transfer under way: cancelled when the connection goes, which stops its thread.
    private var transferOutlet: TransferOutlet?
    /// Messages of the transfer written and not yet taken by the kernel.
    private var transferWritesPending = 0

    /// Bytes received and not yet answered: complete frames held back by the pipelining bound, then at most
    /// one incomplete message.
    private var input = ByteBuffer()
    /// When the first byte of the incomplete message at the end of `input` arrived; nil when there is none.
    private var messageStarted: NIODeadline?
    /// The last complete query, answer taken by the client, or the connection's start.
    private var lastActivity: NIODeadline = .uptimeNanoseconds(0)
    /// Answers written and not yet handed to the kernel.
    private var outstanding = 0
    /// A read the pipeline asked for while this handler held reading back.
    private var readHeldBack = false
    /// Set once the connection is on its way out: later frames get no answer.
    private var closing = false
    /// Set on half-close or quiescing: answer every complete frame received, then close.
    private var draining = false
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline = .distantFuture

    init(
        store: RecordStore,
        scratch: TCPScratchBuffers,
        eventLoop: any EventLoop,
        limits: TCPLimits = .defaults,
        registration: TCPConnectionRegistry.Entry? = nil,
        counters: QueryCounters? = nil,
        transfer: ZoneTransfer? = nil
    ) {
        self.counters = counters
        self.transfer = transfer
        self.reader = RecordStore.Reader(store)
        self.scratchOwner = scratch
        self.scratch = scratch.buffer(for: eventLoop)
        self.limits = limits
        self.idleTimeout = TimeAmount(limits.idleTimeout)
        self.messageTimeout = TimeAmount(limits.messageTimeout)
        self.keepaliveTimeout = limits.keepaliveTimeout
        self.registration = registration
    }

    /// The pipeline of one DNS-over-TCP connection. Also used by the tests on an `EmbeddedChannel`.
    static func addHandlers(
        to pipeline: ChannelPipeline.SynchronousOperations,
        eventLoop: any EventLoop,
        store: RecordStore,
        scratch: TCPScratchBuffers,
        limits: TCPLimits = .defaults,
        registration: TCPConnectionRegistry.Entry? = nil,
        counters: QueryCounters? = nil,
        transfer: ZoneTransfer? = nil
    ) throws {
        try pipeline.addHandler(
            DNSTCPHandler(
                store: store,
                scratch: scratch,
                eventLoop: eventLoop,
                limits: limits,
                registration: registration,
                counters: counters,
                transfer: transfer
            )
        )
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        source = RequesterAddress(context.channel.remoteAddress)
        if context.channel.isActive { start(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        transferOutlet?.cancel()
    }

    func channelActive(context: ChannelHandlerContext) {
        source = RequesterAddress(context.channel.remoteAddress)
        if timer == nil { start(context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        transferOutlet?.cancel()
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    private func start(context: ChannelHandlerContext) {
        lastActivity = context.eventLoop.now
        armTimer(context: context)
    }

    // MARK: - Reading

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        var bytes = unwrapInboundIn(data)
        if input.readableBytes == 0 {
            input = bytes
        } else {
            input.writeBuffer(&bytes)
        }
        answerFrames(context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
    }

    /// Holds a read back while the client has `maxPipelined` answers to take, NIO's write buffer is full, or
    /// complete frames wait in `input`; `resumeReading` asks again once that passes.
    func read(context: ChannelHandlerContext) {
        if mayRead(context: context) {
            context.read()
        } else {
            readHeldBack = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        resumeReading(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func mayRead(context: ChannelHandlerContext) -> Bool {
        !closing && !transferring && outstanding < limits.maxPipelined && context.channel.isWritable
            && completeFrameLength == nil
    }

    private func resumeReading(context: ChannelHandlerContext) {
        guard readHeldBack, mayRead(context: context) else { return }
        readHeldBack = false
        context.read()
    }

    /// The length of the first frame in `input` when all of it has arrived.
    private var completeFrameLength: Int? {
        guard let length = input.getInteger(at: input.readerIndex, as: UInt16.self),
            input.readableBytes >= 2 + Int(length)
        else { return nil }
        return Int(length)
    }

    /// Answers the complete frames of `input` in order, as far as the pipelining bound allows (all of them when
    /// draining), and notes when an incomplete message started.
    private func answerFrames(context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        while !closing, !transferring, draining || outstanding < limits.maxPipelined, let length = completeFrameLength {
            input.moveReaderIndex(forwardBy: 2)
            let frame = input.readSlice(length: length)!
            lastActivity = now
            registration?.queried(at: now)
            answer(frame, context: context)
        }
        if input.readableBytes == 0 {
            input.clear()
            messageStarted = nil
        } else if completeFrameLength != nil {
            // Held back by the pipelining bound, not slow to arrive.
            messageStarted = nil
        } else if messageStarted == nil {
            messageStarted = now
        }
        if input.readerIndex > 16384 { input.discardReadBytes() }
        armTimer(context: context)
    }

    private func answer(_ query: ByteBuffer, context: ChannelHandlerContext) {
        if let transfer, let type = query.withUnsafeReadableBytes({ TransferRequest.queryType(of: $0) }),
           type == .axfr || type == .ixfr
        {
            startTransfer(Array(query.readableBytesView), transfer: transfer, context: context)
            return
        }
        let table = reader.table()
        let answer = UnsafeMutableRawBufferPointer(rebasing: scratch[2..<TCPScratchBuffers.size])
        var qtype = RRType.reserved
        var outcome = ResponseOutcome()
        outcome.turn = scratch.loadUnaligned(fromByteOffset: TCPScratchBuffers.turnOffset, as: UInt32.self)
        let started = mcdns_monotonic_nanoseconds()
        var length = query.withUnsafeReadableBytes { bytes in
            table.respond(to: bytes, transport: .tcp, source: source, into: answer, qtype: &qtype, outcome: &outcome,
                          cookies: .disabled, tcpKeepalive: keepaliveTimeout)
        }
        scratch.storeBytes(of: outcome.turn, toByteOffset: TCPScratchBuffers.turnOffset, as: UInt32.self)
        if let counters {
            counters.count(transport: .tcp, qtype: qtype, response: answer.baseAddress!,
                           length: length <= answer.count ? length : 0)
            if zoneTable !== table {
                zoneSlots = counters.zones.slots(of: table.zoneOrigins)
                zoneTable = table
            }
            counters.zone(outcome.zone, slots: zoneSlots)
        }
        counters?.latency(nanoseconds: mcdns_monotonic_nanoseconds() &- started, queries: 1)
        if outcome.signed, length > 0, length <= answer.count, let transfer {
            length = query.withUnsafeReadableBytes { bytes in
                transfer.signResponse(to: bytes, response: answer, length: length)
            }
        }
        guard length > 0, length <= answer.count else {
            // The responder drops this query; over TCP that means closing, after the answers already queued.
            closeAfterPendingWrites(context: context)
            return
        }
        scratch.storeBytes(of: UInt16(length).bigEndian, toByteOffset: 0, as: UInt16.self)
        var out = context.channel.allocator.buffer(capacity: 2 + length)
        out.writeBytes(UnsafeRawBufferPointer(rebasing: scratch[0..<(2 + length)]))
        if outstanding == 0 { lastActivity = context.eventLoop.now }
        outstanding += 1
        let promise = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { _ in
            let (handler, context) = loopBound.value
            handler.answerTaken(context: context)
        }
        context.write(wrapOutboundOut(out), promise: promise)
    }

    /// Makes the transfer's messages on a thread of its own below the UDP workers' priority (`TransferThread`; a
    /// zone of a million records takes seconds, never the event loop's), one message at a time: each is written
    /// as soon as it is made, and the thread makes the next only once the kernel has taken all but
    /// `TransferOutlet.window` of them. Frames that came after the request wait until the last is written.
    private func startTransfer(_ request: [UInt8], transfer: ZoneTransfer, context: ChannelHandlerContext) {
        transferring = true
        let remote = context.channel.remoteAddress
        let address: [UInt8]? = remote.flatMap { address -> [UInt8]? in
            switch address {
            case .v4(let v4):
                return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
            case .v6(let v6):
                return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
            default:
                return nil
            }
        }
        let client = remote?.ipAddress ?? "?"
        let outlet = TransferOutlet()
        transferOutlet = outlet
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        let started = TransferThread.start {
            let messages = transfer.respond(to: request, from: address, client: client) { message in
                guard outlet.waitForRoom() else { return false }
                eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.writeTransferMessage(message, outlet: outlet, context: context)
                }
                return true
            }
            eventLoop.execute {
                let (handler, context) = loopBound.value
                handler.finishTransfer(outlet: outlet, messages: messages, context: context)
            }
        }
        if !started {
            // No thread to make it on (the process is out of threads): the client retries later.
            transferOutlet = nil
            transferring = false
            closeAfterPendingWrites(context: context)
        }
    }

    private func writeTransferMessage(_ message: [UInt8], outlet: TransferOutlet, context: ChannelHandlerContext) {
        guard transferOutlet === outlet, !closing, context.channel.isActive else {
            outlet.cancel()
            return
        }
        var out = context.channel.allocator.buffer(capacity: 2 + message.count)
        out.writeInteger(UInt16(message.count))
        out.writeBytes(message)
        // The idle clock runs from the first message the client has to take.
        if transferWritesPending == 0 { lastActivity = context.eventLoop.now }
        transferWritesPending += 1
        let promise = context.eventLoop.makePromise(of: Void.self)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenComplete { result in
            let (handler, context) = loopBound.value
            handler.transferWritesPending -= 1
            handler.lastActivity = context.eventLoop.now
            switch result {
            case .success: outlet.taken()
            case .failure: outlet.cancel()
            }
        }
        context.writeAndFlush(wrapOutboundOut(out), promise: promise)
        armTimer(context: context)
    }

    private func finishTransfer(outlet: TransferOutlet, messages: Int, context: ChannelHandlerContext) {
        guard transferOutlet === outlet else { return }
        transferOutlet = nil
        transferring = false
        guard !closing, context.channel.isActive else { return }
        guard messages > 0 else {
            closeAfterPendingWrites(context: context)
            return
        }
        answerFrames(context: context)
        context.flush()
        if draining {
            closeAfterPendingWrites(context: context)
        } else {
            resumeReading(context: context)
        }
    }

    /// An answer reached the kernel: the client is reading. Frames held back by the pipelining bound are
    /// answered on the next turn of the loop, outside the flush that completed this write.
    private func answerTaken(context: ChannelHandlerContext) {
        outstanding -= 1
        lastActivity = context.eventLoop.now
        guard !closing, !draining else { return }
        if outstanding == limits.maxPipelined - 1, completeFrameLength != nil {
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            context.eventLoop.execute {
                let (handler, context) = loopBound.value
                guard !handler.closing else { return }
                handler.answerFrames(context: context)
                context.flush()
                handler.resumeReading(context: context)
            }
        } else {
            resumeReading(context: context)
        }
    }

    // MARK: - Ending

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case is ChannelShouldQuiesceEvent, ChannelEvent.inputClosed:
            // Graceful shutdown, or the client half-closed after its last query: answer every complete frame
            // already received, let those answers reach the client, then close.
            draining = true
            // A transfer being made closes the connection once its messages are written.
            if transferring { return }
            answerFrames(context: context)
            closeAfterPendingWrites(context: context)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset peer: nothing to answer.
        closing = true
        transferOutlet?.cancel()
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

    // MARK: - Deadlines

    /// When the connection is to close unless something happens first.
    private var deadline: NIODeadline {
        // A transfer being made is activity; messages written and not taken by the client for `idleTimeout`
        // are not (a reader that stopped reading would hold a transfer slot forever).
        if transferring { return transferWritesPending > 0 ? lastActivity + idleTimeout : .distantFuture }
        let idle = lastActivity + idleTimeout
        guard let messageStarted else { return idle }
        return min(idle, messageStarted + messageTimeout)
    }

    /// Keeps one timer at or before `deadline`: a later deadline leaves the timer to re-arm itself when it
    /// fires; an earlier one (a message just started) moves it.
    private func armTimer(context: ChannelHandlerContext) {
        let wanted = deadline
        guard timer == nil || wanted < timerDeadline else { return }
        timer?.cancel()
        timerDeadline = wanted
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: wanted) {
            let (handler, context) = loopBound.value
            handler.timerFired(context: context)
        }
    }

    private func timerFired(context: ChannelHandlerContext) {
        timer = nil
        guard context.channel.isActive else { return }
        if context.eventLoop.now >= deadline {
            // Idle, too slow to send a message, or too slow to take its answers: RFC 7766 §6.2.3.
            closing = true
            context.close(promise: nil)
        } else {
            armTimer(context: context)
        }
    }
}
