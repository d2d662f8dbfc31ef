public import NIOCore

/// Splits a watch response body into its events: one JSON object per line, as the API server writes them.
///
/// Chunks do not follow event boundaries: an event may span several chunks, a chunk may hold several events. The
/// framer keeps the unfinished tail between chunks. An event longer than `maximumEventSize` is not buffered: its
/// bytes are dropped up to the next newline and reported once as `.oversized`, so a hostile or broken server
/// cannot make the client hold an unbounded line.
public struct WatchEventFramer: Sendable {
    public enum Frame: Sendable, Equatable {
        /// One complete line, without its newline (surrounding whitespace removed; empty lines are skipped).
        case line([UInt8])
        /// A line longer than the cap was dropped; `size` is how many bytes were seen before the drop decision
        /// (at least the cap).
        case oversized(size: Int)
    }

    public let maximumEventSize: Int
    private var pending: [UInt8] = []
    /// True while dropping the rest of an oversized line.
    private var discarding = false

    public init(maximumEventSize: Int = 4 << 20) {
        self.maximumEventSize = maximumEventSize
    }

    /// Feeds one chunk; returns the frames it completed, in order.
    public mutating func append(_ buffer: ByteBuffer) -> [Frame] {
        buffer.withUnsafeReadableBytes { append(bytes: $0) }
    }

    public mutating func append(bytes: UnsafeRawBufferPointer) -> [Frame] {
        var frames: [Frame] = []
        var start = 0
        let newline = UInt8(ascii: "\n")
        while start < bytes.count {
            guard let end = bytes[start...].firstIndex(of: newline) else {
                // No end of line in the rest of this chunk: keep it, unless that passes the cap.
                let rest = bytes.count - start
                if discarding { return frames }
                if pending.count + rest > maximumEventSize {
                    frames.append(.oversized(size: pending.count + rest))
                    pending.removeAll(keepingCapacity: false)
                    discarding = true
                } else {
                    pending.append(contentsOf: bytes[start...])
                }
                return frames
            }
            if discarding {
                discarding = false
            } else if pending.count + (end - start) > maximumEventSize {
                frames.append(.oversized(size: pending.count + end - start))
                pending.removeAll(keepingCapacity: false)
            } else {
                pending.append(contentsOf: bytes[start..<end])
                if let line = Self.trimmed(pending) { frames.append(.line(line)) }
                pending.removeAll(keepingCapacity: true)
            }
            start = end + 1
        }
        return frames
    }

    /// Called when the body ends: a last line without a newline still counts (a server may omit the final one).
    public mutating func finish() -> [Frame] {
        defer {
            pending.removeAll(keepingCapacity: false)
            discarding = false
        }
        if discarding { return [] }
        return Self.trimmed(pending).map { [.line($0)] } ?? []
    }

    private static func trimmed(_ bytes: [UInt8]) -> [UInt8]? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        guard let first = bytes.firstIndex(where: { !isSpace($0) }),
            let last = bytes.lastIndex(where: { !isSpace($0) })
        else { return nil }
        if first == bytes.startIndex && last == bytes.index(before: bytes.endIndex) { return bytes }
        return Array(bytes[first...last])
    }
}
