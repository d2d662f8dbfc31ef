import KubeClient
import NIOCore
import Testing

@Suite("Watch stream framing (test 10)")
struct WatchEventFramerTests {
    static let added = #"{"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"a","namespace":"shop","resourceVersion":"7"},"spec":{"clusterIP":"10.0.0.1","ports":[{"port":80}]}}}"#
    static let bookmark = #"{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"9"}}}"#

    private func lines(_ frames: [WatchEventFramer.Frame]) -> [String] {
        frames.compactMap { if case .line(let bytes) = $0 { String(decoding: bytes, as: UTF8.self) } else { nil } }
    }

    @Test func eventSplitAcrossChunksAtEveryOffset() {
        let text = Self.added + "\n"
        let bytes = Array(text.utf8)
        for cut in 1..<bytes.count {
            var framer = WatchEventFramer()
            var frames = framer.append(ByteBuffer(bytes: bytes[..<cut]))
            #expect(frames.isEmpty || cut == bytes.count)
            frames += framer.append(ByteBuffer(bytes: bytes[cut...]))
            #expect(lines(frames) == [Self.added], "cut at \(cut)")
        }
    }

    @Test func severalEventsInOneChunkAndOneByteAtATime() {
        let text = Self.added + "\n" + Self.bookmark + "\n\n" + Self.added + "\r\n"
        var framer = WatchEventFramer()
        #expect(lines(framer.append(ByteBuffer(string: text))) == [Self.added, Self.bookmark, Self.added])

        var byByte = WatchEventFramer()
        var collected: [WatchEventFramer.Frame] = []
        for byte in text.utf8 { collected += byByte.append(ByteBuffer(bytes: [byte])) }
        #expect(lines(collected) == [Self.added, Self.bookmark, Self.added])
    }

    @Test func largeObjectUnderTheCapPasses() throws {
        let padding = String(repeating: "x", count: 900_000)
        let big = #"{"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"big","namespace":"shop","resourceVersion":"3","annotations":{"note":""# + padding + #""}},"spec":{"clusterIP":"10.0.0.2"}}}"#
        var framer = WatchEventFramer(maximumEventSize: 1 << 20)
        var frames: [WatchEventFramer.Frame] = []
        let bytes = Array((big + "\n").utf8)
        for start in stride(from: 0, to: bytes.count, by: 16_384) {
            frames += framer.append(ByteBuffer(bytes: bytes[start..<min(start + 16_384, bytes.count)]))
        }
        #expect(lines(frames) == [big])
        guard case .line(let line) = frames.first else { return }
        let event = try WatchEvent.decode(line: line, kind: .service)
        guard case .added(.service(let service), let version) = event else {
            Issue.record("expected ADDED, got \(event)")
            return
        }
        #expect(service.metadata.name == "big")
        #expect(version == "3")
        #expect(service.metadata.annotations.isEmpty)  // only mcdns.io/* annotations are kept
    }

    @Test func objectOverTheCapIsDroppedAndTheNextEventSurvives() {
        var framer = WatchEventFramer(maximumEventSize: 100)
        let long = String(repeating: "y", count: 250)
        var frames = framer.append(ByteBuffer(string: "{\"type\":\"ADDED\",\"pad\":\"" + long.prefix(120)))
        frames += framer.append(ByteBuffer(string: String(long.dropFirst(120)) + "\"}\n" + Self.bookmark.prefix(10)))
        frames += framer.append(ByteBuffer(string: String(Self.bookmark.dropFirst(10)) + "\n"))
        #expect(frames.count == 2)
        guard case .oversized(let size) = frames.first else {
            Issue.record("expected an oversized frame first, got \(frames)")
            return
        }
        #expect(size > 100)
        // The bookmark is over the 100-byte cap too here; use a short line to show recovery.
        var small = WatchEventFramer(maximumEventSize: 100)
        let results = small.append(ByteBuffer(string: String(repeating: "z", count: 150) + "\n{\"type\":\"X\"}\n"))
        #expect(results == [.oversized(size: 150), .line(Array("{\"type\":\"X\"}".utf8))])
    }

    @Test func lastLineWithoutNewlineIsDeliveredAtTheEnd() {
        var framer = WatchEventFramer()
        #expect(framer.append(ByteBuffer(string: Self.bookmark)).isEmpty)
        #expect(lines(framer.finish()) == [Self.bookmark])
    }

    @Test func invalidJSONAndUnknownTypes() throws {
        #expect(throws: KubeJSONError.self) { try WatchEvent.decode(line: Array("{\"type\":\"ADDED\",".utf8), kind: .service) }
        #expect(throws: KubeJSONError.self) { try WatchEvent.decode(line: Array("[1,2]".utf8), kind: .service) }
        let unknown = try WatchEvent.decode(line: Array(#"{"type":"SHRUG","object":{"kind":"Service"}}"#.utf8), kind: .service)
        #expect(unknown == .unknown(type: "SHRUG"))
        let bookmark = try WatchEvent.decode(line: Array(Self.bookmark.utf8), kind: .service)
        #expect(bookmark == .bookmark(resourceVersion: "9"))
        let error = try WatchEvent.decode(
            line: Array(#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 218 (245)","reason":"Expired","code":410}}"#.utf8),
            kind: .service
        )
        guard case .error(let status) = error else {
            Issue.record("expected ERROR, got \(error)")
            return
        }
        #expect(status.isExpired)
        #expect(status.code == 410)
        let malformed = try WatchEvent.decode(
            line: Array(#"{"type":"MODIFIED","object":{"kind":"Service","apiVersion":"v1","metadata":{"name":"b","namespace":"x","resourceVersion":"11"},"spec":{"clusterIP":"10.0.0.300"}}}"#.utf8),
            kind: .service
        )
        guard case .malformed(_, _, let version) = malformed else {
            Issue.record("expected a malformed event, got \(malformed)")
            return
        }
        #expect(version == "11")
    }

    @Test func listItemsWithoutKindDecodeAsTheWatchedKind() throws {
        // Watch objects carry kind/apiVersion; managedFields is dropped before decoding.
        let line = #"{"type":"ADDED","object":{"metadata":{"name":"n1","resourceVersion":"5","labels":{"topology.kubernetes.io/region":"eu"},"managedFields":[{"manager":"x"}]}}}"#
        let event = try WatchEvent.decode(line: Array(line.utf8), kind: .node)
        #expect(event == .added(.node(KubeNode(name: "n1", resourceVersion: "5", region: "eu")), resourceVersion: "5"))
    }
}
