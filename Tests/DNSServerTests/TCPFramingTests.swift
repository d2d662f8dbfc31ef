import DNSAnswer
import DNSWire
import NIOCore
import NIOEmbedded
import RecordStore
import Testing

@testable import DNSServer

/// The connection pipeline of the TCP server on an `EmbeddedChannel`: framing, ordering, idle timeout and
/// closing, without sockets and without waiting for real time.
@Suite struct TCPFramingTests {
    private func makeChannel(
        idleTimeout: Duration = .seconds(10),
        messageTimeout: Duration = .seconds(2),
        maxPipelined: Int = 64
    ) async throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try DNSTCPHandler.addHandlers(
            to: channel.pipeline.syncOperations,
            eventLoop: channel.eventLoop,
            store: try ServerFixture.store(),
            scratch: TCPScratchBuffers(),
            limits: try TCPLimits(idleTimeout: idleTimeout, messageTimeout: messageTimeout, maxPipelined: maxPipelined)
        )
        // Active like an accepted connection, so the idle timer runs.
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).get()
        return channel
    }

    private func framed(_ messages: [[UInt8]]) -> ByteBuffer {
        ByteBuffer(bytes: messages.flatMap(TestSocket.framed))
    }

    /// Reads one framed response from what the handler wrote, checking the length prefix matches.
    private func readResponse(_ channel: EmbeddedChannel) throws -> Message? {
        guard var buffer = try channel.readOutbound(as: ByteBuffer.self) else { return nil }
        let prefix = buffer.readInteger(as: UInt16.self)
        let length = try #require(prefix)
        #expect(Int(length) == buffer.readableBytes)
        return try Message(wire: Array(buffer.readableBytesView))
    }

    @Test func pipelinedQueriesInOneSegmentAreAnsweredInOrder() async throws {
        let channel = try await makeChannel()
        let queries = [
            try ServerFixture.query("www.example.test", .a, id: 1),
            try ServerFixture.query("mail.example.test", .a, id: 2),
            try ServerFixture.query("www.example.test", .aaaa, id: 3),
        ]
        try channel.writeInbound(framed(queries))
        let first = try #require(try readResponse(channel))
        let second = try #require(try readResponse(channel))
        let third = try #require(try readResponse(channel))
        #expect([first.id, second.id, third.id] == [1, 2, 3])
        #expect(first.aa && first.rcode == .noError)
        #expect(first.answer.contains { $0.contains("192.0.2.80") })
        #expect(second.answer.contains { $0.contains("192.0.2.25") })
        #expect(third.answer.contains { $0.contains("2001:db8::80") })
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        #expect(try channel.finish().isClean)
    }

    @Test func aQuerySplitAcrossSegmentsIsAnsweredOnceComplete() async throws {
        let channel = try await makeChannel()
        let bytes = TestSocket.framed(try ServerFixture.query("www.example.test", .a, id: 7))
        // Every byte on its own: the length prefix itself split, then the message dribbling in.
        for byte in bytes.dropLast() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        }
        try channel.writeInbound(ByteBuffer(bytes: [bytes.last!]))
        let response = try #require(try readResponse(channel))
        #expect(response.id == 7)
        #expect(try channel.finish().isClean)
    }

    @Test func aQueryTheResponderDropsClosesTheConnectionAfterEarlierAnswers() async throws {
        let channel = try await makeChannel()
        // A message shorter than a DNS header has no ID to answer: the responder returns 0.
        let valid = try ServerFixture.query("www.example.test", .a, id: 9)
        let later = try ServerFixture.query("mail.example.test", .a, id: 10)
        try channel.writeInbound(framed([valid, [1, 2, 3], later]))
        let response = try #require(try readResponse(channel))
        #expect(response.id == 9)
        // No byte for the dropped message nor for anything after it, and the connection is closed.
        while let rest = try channel.readOutbound(as: ByteBuffer.self) {
            #expect(rest.readableBytes == 0)
        }
        #expect(!channel.isActive)
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean)
    }

    @Test func aSilentConnectionIsClosedAtTheIdleTimeout() async throws {
        let channel = try await makeChannel(idleTimeout: .seconds(10))
        channel.embeddedEventLoop.advanceTime(by: .seconds(9))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .seconds(2))
        #expect(!channel.isActive)
        #expect(try channel.finish(acceptAlreadyClosed: true).isClean)
    }

    @Test func aLengthPrefixPromisingMoreThanSentIsClosedAtTheMessageDeadline() async throws {
        let channel = try await makeChannel(idleTimeout: .seconds(10), messageTimeout: .seconds(2))
        // 256 bytes promised, 3 sent.
        try channel.writeInbound(ByteBuffer(bytes: [0x01, 0x00, 0xAA, 0xBB, 0xCC]))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func activityResetsTheIdleTimer() async throws {
        let channel = try await makeChannel(idleTimeout: .seconds(10))
        for id in UInt16(1)...3 {
            channel.embeddedEventLoop.advanceTime(by: .seconds(8))
            try channel.writeInbound(framed([try ServerFixture.query("www.example.test", .a, id: id)]))
            #expect(try readResponse(channel)?.id == id)
        }
        #expect(channel.isActive)
        #expect(try channel.finish().isClean)
    }

    /// Slowloris: a byte every second keeps no message alive past the message deadline, counted from its
    /// first byte, although the connection is never silent for the idle timeout.
    @Test func aMessageTricklingInIsClosedAtTheMessageDeadlineFromItsFirstByte() async throws {
        let channel = try await makeChannel(idleTimeout: .seconds(10), messageTimeout: .seconds(2))
        let bytes = TestSocket.framed(try ServerFixture.query("www.example.test", .a, id: 3))
        // An earlier complete query, then the trickle: the deadline runs from the trickle's first byte.
        try channel.writeInbound(framed([try ServerFixture.query("mail.example.test", .a, id: 2)]))
        #expect(try readResponse(channel)?.id == 2)
        channel.embeddedEventLoop.advanceTime(by: .seconds(5))
        for byte in bytes.prefix(2) {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))
            #expect(channel.isActive)
        }
        try channel.writeInbound(ByteBuffer(bytes: [bytes[2]]))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(300))
        #expect(!channel.isActive)
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    /// With the client taking no answers (no flush reaches it), at most `maxPipelined` answers are queued; the
    /// rest of the pipelined queries wait in the input and are answered, in order, as answers are taken.
    @Test func pipelinedQueriesBeyondTheBoundWaitForAnswersToBeTaken() async throws {
        let channel = try await makeChannel(maxPipelined: 3)
        let writes = WriteCounter()
        try channel.pipeline.syncOperations.addHandler(writes, position: .first)
        let queries = try (1...10).map { try ServerFixture.query("www.example.test", .a, id: UInt16($0)) }
        // Through the pipeline without the read-complete flush, so the answers stay unflushed (not taken).
        channel.pipeline.fireChannelRead(NIOAny(framed(queries)))
        #expect(writes.count == 3)
        channel.flush()
        channel.embeddedEventLoop.run()
        // Each flush lets the next three through.
        var ids: [UInt16] = []
        while let response = try readResponse(channel) { ids.append(response.id) }
        for _ in 0..<4 {
            channel.flush()
            channel.embeddedEventLoop.run()
            while let response = try readResponse(channel) { ids.append(response.id) }
        }
        #expect(ids == Array(1...10))
        #expect(writes.maxUnflushed == 3)
        #expect(try channel.finish().isClean)
    }

    @Test func halfCloseDeliversTheAnswersThenCloses() async throws {
        let channel = try await makeChannel()
        try channel.writeInbound(framed([try ServerFixture.query("www.example.test", .a, id: 4)]))
        channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
        #expect(try readResponse(channel)?.id == 4)
        #expect(!channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func quiescingAnswersWhatWasReadThenCloses() async throws {
        let channel = try await makeChannel()
        try channel.writeInbound(framed([try ServerFixture.query("www.example.test", .a, id: 5)]))
        channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(try readResponse(channel)?.id == 5)
        #expect(!channel.isActive)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func aPublishedTableIsUsedForTheNextQuery() async throws {
        let store = try ServerFixture.store()
        let channel = EmbeddedChannel()
        try DNSTCPHandler.addHandlers(
            to: channel.pipeline.syncOperations,
            eventLoop: channel.eventLoop,
            store: store,
            scratch: TCPScratchBuffers()
        )
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).get()
        try channel.writeInbound(framed([try ServerFixture.query("www.example.test", .a, id: 1)]))
        #expect(try readResponse(channel)?.rcode == .noError)
        // A table with no zones refuses everything: the open connection sees the swap at once.
        store.publish(AnswerTable(serial: 2))
        try channel.writeInbound(framed([try ServerFixture.query("www.example.test", .a, id: 2)]))
        #expect(try readResponse(channel)?.rcode == .refused)
        #expect(try channel.finish().isClean)
    }
}

/// Counts the answers written and the most that were written and not yet flushed at once.
private final class WriteCounter: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    private(set) var count = 0
    private var unflushed = 0
    private(set) var maxUnflushed = 0

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if unwrapOutboundIn(data).readableBytes > 0 {
            count += 1
            unflushed += 1
            maxUnflushed = max(maxUnflushed, unflushed)
        }
        context.write(data, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        unflushed = 0
        context.flush()
    }
}
