@testable import ClusterTunnel
import Logging
import NIOCore
import NIOEmbedded
import NIOWebSocket
import Testing

/// The frame adapter without sockets: bytes in binary frames, pings answered, close honoured, large writes split.
@Suite struct WebSocketByteStreamHandlerTests {
    func channel(masking: Bool, maxFrameSize: Int = 1 << 20) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            WebSocketByteStreamHandler(
                masking: masking,
                pingInterval: .seconds(20),
                maxFrameSize: maxFrameSize,
                logger: Logger(label: "test")
            )
        )
        return channel
    }

    @Test func binaryFramesBecomeBytesUnmasked() throws {
        let channel = try channel(masking: false)
        var data = ByteBuffer(string: "PRI * HTTP/2.0")
        let key = WebSocketMaskingKey.random()
        data.webSocketMask(key)
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .binary, maskKey: key, data: data))
        #expect(try channel.readInbound(as: ByteBuffer.self) == ByteBuffer(string: "PRI * HTTP/2.0"))
        #expect(try channel.finish().isClean)
    }

    @Test func pingIsAnsweredWithPongOfTheSameData() throws {
        let channel = try channel(masking: true)
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .ping, data: ByteBuffer(string: "hi")))
        let pong = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(pong.opcode == .pong)
        #expect(pong.maskKey != nil)  // the agent is the WebSocket client: it masks
        // Outbound frames carry their key; the encoder applies it, so the data is still plain here.
        #expect(pong.data == ByteBuffer(string: "hi"))
        _ = try channel.finish()
    }

    @Test func closeFrameIsAnsweredAndClosesTheChannel() throws {
        let channel = try channel(masking: false)
        var payload = ByteBuffer()
        payload.write(webSocketErrorCode: .normalClosure)
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload))
        let reply = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(reply.opcode == .connectionClose)
        #expect(!channel.isActive)
    }

    @Test func largeWritesAreSplitIntoFramesNoLargerThanTheMaximum() throws {
        let channel = try channel(masking: false, maxFrameSize: 1000)
        try channel.writeOutbound(ByteBuffer(repeating: 7, count: 2500))
        var sizes: [Int] = []
        while let frame = try channel.readOutbound(as: WebSocketFrame.self) {
            #expect(frame.opcode == .binary && frame.fin)
            sizes.append(frame.data.readableBytes)
        }
        #expect(sizes == [1000, 1000, 500])
        #expect(try channel.finish().isClean)
    }

    @Test func textFramesAreAProtocolError() throws {
        let channel = try channel(masking: false)
        try channel.writeInbound(WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "hello")))
        let reply = try #require(try channel.readOutbound(as: WebSocketFrame.self))
        #expect(reply.opcode == .connectionClose)
        var data = reply.data
        #expect(data.readWebSocketErrorCode() == .protocolError)
        #expect(!channel.isActive)
    }
}
