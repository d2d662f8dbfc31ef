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
    private func makeChannel(idleTimeout: Duration = .seconds(10)) async throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try DNSTCPHandler.addHandlers(
            to: channel.pipeline.syncOperations,
            eventLoop: channel.eventLoop,
            store: try ServerFixture.store(),
            scratch: TCPScratchBuffers(),
            idleTimeout: idleTimeout
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
        #expect(first.aa && first.rcode == 0)
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

    @Test func aLengthPrefixPromisingMoreThanSentIsClosedAtTheIdleTimeout() async throws {
        let channel = try await makeChannel(idleTimeout: .seconds(10))
        // 256 bytes promised, 3 sent.
        try channel.writeInbound(ByteBuffer(bytes: [0x01, 0x00, 0xAA, 0xBB, 0xCC]))
        channel.embeddedEventLoop.advanceTime(by: .seconds(11))
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
            scratch: TCPScratchBuffers(),
            idleTimeout: .seconds(10)
        )
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 53)).get()
        try channel.writeInbound(framed([try ServerFixture.query("www.example.test", .a, id: 1)]))
        #expect(try readResponse(channel)?.rcode == 0)
        // A table with no zones refuses everything: the open connection sees the swap at once.
        store.publish(AnswerTable(serial: 2))
        try channel.writeInbound(framed([try ServerFixture.query("www.example.test", .a, id: 2)]))
        #expect(try readResponse(channel)?.rcode == 5)
        #expect(try channel.finish().isClean)
    }
}
