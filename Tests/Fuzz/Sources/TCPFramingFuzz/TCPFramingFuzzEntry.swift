import DNSAnswer
import DNSWire
import NIOCore
import NIOEmbedded
import RecordStore

@testable import DNSServer

/// DNS over TCP: the byte stream of one connection through the server's real connection pipeline
/// (`DNSTCPHandler.addHandlers`: back pressure, timeouts, the 2-byte length framing of RFC 1035 §4.2.2 and
/// the answering handler) on an `EmbeddedChannel`, cut into segments of any size.
///
/// The first input byte seeds the segment sizes (1 to 64 bytes, so length prefixes split too); the rest is what
/// the client sends. Property: what the server writes back is exactly, in order, one length-prefixed response per
/// complete message, each the response `AnswerTable.respond` gives that message alone, up to the first message
/// it does not answer, after which the connection closes; never anything for an incomplete message.
enum TCPFramingFuzzEntry {
    static func check(_ input: [UInt8]) -> String? {
        guard let seed = input.first else { return nil }
        let stream = Array(input.dropFirst())
        let channel = EmbeddedChannel()
        do {
            try DNSTCPHandler.addHandlers(
                to: channel.pipeline.syncOperations,
                eventLoop: channel.eventLoop,
                store: store,
                scratch: scratch,
                limits: .defaults
            )
        } catch {
            return "the TCP pipeline cannot be set up: \(error)"
        }
        channel.connect(to: try! SocketAddress(ipAddress: "127.0.0.1", port: 53), promise: nil)

        var random = UInt64(seed) &+ 1
        var start = 0
        while start < stream.count, channel.isActive {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let size = min(stream.count - start, Int(random >> 58) + 1)
            do {
                try channel.writeInbound(ByteBuffer(bytes: stream[start..<(start + size)]))
            } catch {
                break  // Closed after a message it did not answer.
            }
            start += size
        }
        var written: [UInt8] = []
        while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytesView }
        _ = try? channel.finish(acceptAlreadyClosed: true)

        let expected = expectedReply(to: stream)
        guard written == expected else {
            return "the server wrote \(written.count) bytes, the messages' own responses are \(expected.count)"
        }
        return nil
    }

    /// The responses to the complete messages of `stream`, each behind its length, up to the first one dropped.
    static func expectedReply(to stream: [UInt8]) -> [UInt8] {
        var reply: [UInt8] = []
        var offset = 0
        var output = [UInt8](repeating: 0, count: TCPScratchBuffers.size - 2)
        let table = store.current()
        while offset + 2 <= stream.count {
            let length = Int(stream[offset]) << 8 | Int(stream[offset + 1])
            guard offset + 2 + length <= stream.count else { break }
            let message = Array(stream[(offset + 2)..<(offset + 2 + length)])
            let answered = message.withUnsafeBytes { query in
                output.withUnsafeMutableBytes { output in
                    var qtype = RRType.reserved
                    var outcome = ResponseOutcome()
                    return table.respond(to: query, transport: .tcp, source: .unknown, into: output, qtype: &qtype,
                                         outcome: &outcome, cookies: .disabled,
                                         tcpKeepalive: TCPLimits.defaults.keepaliveTimeout)
                }
            }
            guard answered > 0, answered <= output.count else { break }
            reply += [UInt8(answered >> 8), UInt8(answered & 0xFF)] + output[0..<answered]
            offset += 2 + length
        }
        return reply
    }

    /// The zone of DNSServerTests' ServerFixture: a few names and a 200-address RRset that needs TCP.
    static let store: RecordStore = {
        let text = """
            $ORIGIN example.test.
            $TTL 300
            @    IN SOA ns1 hostmaster 1 7200 3600 1209600 60
                 IN NS ns1
            ns1  IN A 192.0.2.1
            www  IN A 192.0.2.80
                 IN AAAA 2001:db8::80
            mail IN A 192.0.2.25
            *.wild IN TXT "wildcard"
            alias IN CNAME www
            \((1...200).map { "big IN A 198.51.100.\($0)" }.joined(separator: "\n"))

            """
        guard let origin = try? DomainName("example.test"), let zone = ZoneFile.parse(text, origin: origin).0,
            let table = try? AnswerTable.compile(zones: [zone], serial: 1)
        else { fatalError("the TCP fuzz zone does not compile") }
        return RecordStore(initial: table)
    }()

    static let scratch = TCPScratchBuffers()
}
