import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket

@testable import ClusterTunnel

/// The tunnel host's side of an agent connection, from the bytes that arrive once TLS is done: the HTTP/1
/// upgrade request and then the WebSocket frames that carry HTTP/2 (README "Protocol").
///
/// The pipeline is `TunnelServer.configureConnection`'s without TLS and with a token check in place of
/// `TunnelAuthenticator` (which needs NIOSSL and Crypto, too heavy for the fuzz build): NIOHTTP1's server
/// pipeline with the WebSocket upgrader at the tunnel's frame size limit, then the real
/// `WebSocketByteStreamHandler`, which hands the byte stream to what would be HTTP/2 (here a collector). Every
/// upgrade request's target also goes through the agent's `TunnelAllowList`.
///
/// The first input byte seeds the segment sizes (1 to 64 bytes); the rest is what the peer sends. Properties: no
/// trap; nothing reaches the byte stream without an accepted upgrade, and never more bytes than the peer sent;
/// when what follows the request head is a clean run of masked, final binary frames, the stream is exactly their
/// unmasked payloads; an allowed target has no `..`, `%` or `\` in its path and is a GET; nothing of the
/// upgrade outlives the closed connection. Like `TunnelServer`, it refuses an upgrade request that announces a
/// body (`TunnelUpgradeRequest.promisesBody`).
enum TunnelFuzzEntry {
    static let token = "fuzz-token"
    /// `TunnelServer.path` (FuzzReplayTests checks they agree).
    static let tunnelPath = "/tunnel/v1"

    static func check(_ input: [UInt8]) -> String? {
        guard let seed = input.first else { return nil }
        let peer = Array(input.dropFirst())
        let channel = EmbeddedChannel()
        let collector = StreamCollector()
        let state = UpgradeState()
        let limits = TunnelLimits()
        let watch = Watch()
        do {
            // The sentinel is held by the upgrader's closures alone (the upgrader by the pipeline alone).
            let sentinel = Sentinel()
            watch.sentinel = sentinel
            let upgrader = NIOWebSocketServerUpgrader(
                maxFrameSize: limits.maxWebSocketFrameSize,
                shouldUpgrade: { channel, head in
                    withExtendedLifetime(sentinel) {}
                    state.heads.append(head)
                    let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
                    // As `TunnelServer.decide`: an upgrade request announcing a body is refused before its credential.
                    let accepted = path == tunnelPath && !TunnelUpgradeRequest.promisesBody(head)
                        && head.headers.first(name: "authorization") == "Bearer \(token)"
                    return channel.eventLoop.makeSucceededFuture(accepted ? HTTPHeaders() : nil)
                },
                upgradePipelineHandler: { channel, _ in
                    withExtendedLifetime(sentinel) {}
                    state.upgraded = true
                    return channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(
                            WebSocketByteStreamHandler(
                                masking: false,
                                pingInterval: limits.effectiveWebSocketPingInterval,
                                maxFrameSize: limits.maxWebSocketFrameSize,
                                logger: logger
                            )
                        )
                        try sync.addHandler(collector)
                    }
                }
            )
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withServerUpgrade: (upgraders: [upgrader], completionHandler: { _ in }),
                withErrorHandling: true
            )
        } catch {
            return "the tunnel pipeline cannot be set up: \(error)"
        }
        channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 8443), promise: nil)

        var random = UInt64(seed) &+ 1
        var start = 0
        while start < peer.count, channel.isActive {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let size = min(peer.count - start, Int(random >> 58) + 1)
            do {
                try channel.writeInbound(ByteBuffer(bytes: peer[start..<(start + size)]))
                channel.embeddedEventLoop.run()  // The upgrade completes in tasks queued on the loop.
            } catch {
                break  // The pipeline refused the bytes (a malformed request or frame) and closed.
            }
            start += size
        }
        while (try? channel.readOutbound(as: ByteBuffer.self)) != nil {}
        _ = try? channel.finish(acceptAlreadyClosed: true)
        if watch.sentinel != nil {
            return "the upgrader outlives its closed connection: NIO's upgrade handler is left in a reference cycle"
        }

        for head in state.heads {
            if let problem = allowListProblem(method: head.method.rawValue, target: head.uri) { return problem }
        }
        if !state.upgraded, !collector.bytes.isEmpty { return "bytes reached the stream without an upgrade" }
        if collector.bytes.count > peer.count { return "the stream holds more bytes than the peer sent" }
        if state.upgraded, state.heads.count == 1, !framesMayNotFollowHead(state.heads[0]),
            let expected = cleanFramePayloads(afterHeadOf: peer), collector.bytes != expected
        {
            return "the stream holds \(collector.bytes.count) bytes, the peer's binary frames carry \(expected.count)"
        }
        return nil
    }

    /// What the agent's allow list must never let through, for `target`; nil when it holds.
    static func allowListProblem(method: String, target: String) -> String? {
        guard TunnelAllowList().allows(method: method, target: target) else { return nil }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        if method != "GET" { return "the allow list lets \(method) through" }
        if path.split(separator: "/").contains("..") || path.contains("%") || path.contains("\\") {
            return "the allow list lets \(target) through"
        }
        return nil
    }

    /// Whether the frames need not start right after the head: the request says a body follows, or it lacks
    /// `Connection: upgrade`. NIO's upgrader does not require that token (RFC 6455 §4.2.1 does), but without it
    /// the HTTP decoder does not stop at the head and reads the bytes after it as the next request, so they never
    /// reach the stream (Crashes/tunnel/upgrade-without-connection-upgrade).
    static func framesMayNotFollowHead(_ head: HTTPRequestHead) -> Bool {
        !head.headers["transfer-encoding"].isEmpty || head.headers["content-length"].contains { $0 != "0" }
            || !head.headers[canonicalForm: "connection"].contains { $0.lowercased() == "upgrade" }
    }

    /// The unmasked payloads of the peer's bytes after the first request head, when they are nothing but complete,
    /// masked, final binary frames (opcode 2, no reserved bits) within the frame size limit; nil otherwise.
    static func cleanFramePayloads(afterHeadOf peer: [UInt8]) -> [UInt8]? {
        // The head ends at the first empty line; only a head whose every line ends in CR LF is compared.
        let newline = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        var headEnd: Int? = nil
        var index = 0
        while index + 1 < peer.count {
            if peer[index] == newline {
                if peer[index + 1] == newline { return nil }
                if peer[index + 1] == carriageReturn {
                    guard index + 2 < peer.count, peer[index + 2] == newline, index >= 1,
                        peer[index - 1] == carriageReturn
                    else { return nil }
                    headEnd = index + 3
                    break
                }
            }
            index += 1
        }
        guard var offset = headEnd else { return nil }
        var payloads: [UInt8] = []
        while offset < peer.count {
            guard offset + 2 <= peer.count, peer[offset] == 0x82, peer[offset + 1] & 0x80 != 0 else { return nil }
            var length = Int(peer[offset + 1] & 0x7F)
            var cursor = offset + 2
            if length == 126 {
                guard cursor + 2 <= peer.count else { return nil }
                length = Int(peer[cursor]) << 8 | Int(peer[cursor + 1])
                cursor += 2
                guard length >= 126 else { return nil }
            } else if length == 127 {
                return nil  // Frames this long are beyond what a fuzz input holds.
            }
            guard length <= TunnelLimits().maxWebSocketFrameSize, cursor + 4 + length <= peer.count else { return nil }
            let mask = Array(peer[cursor..<(cursor + 4)])
            cursor += 4
            for index in 0..<length { payloads.append(peer[cursor + index] ^ mask[index % 4]) }
            offset = cursor + length
        }
        return payloads
    }

    static let logger = Logger(label: "mcdns.fuzz.tunnel", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Held by the upgrader's closures only: still alive once the connection is closed and its pipeline gone, it
    /// shows the memory LeakSanitizer reports in the fuzz build, in `swift test`'s replay too.
    final class Sentinel: Sendable {}
    final class Watch: @unchecked Sendable { weak var sentinel: Sentinel? }

    /// What `shouldUpgrade` saw, and whether the upgrade went through.
    final class UpgradeState: @unchecked Sendable {
        var heads: [HTTPRequestHead] = []
        var upgraded = false
    }

    /// Stands where HTTP/2 would: keeps the byte stream.
    final class StreamCollector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var bytes: [UInt8] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            bytes += unwrapInboundIn(data).readableBytesView
        }
    }
}
