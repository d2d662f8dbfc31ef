@testable import KubeClient

/// The watch stream's framing: `WatchEventFramer` splitting a chunked body into lines, each decoded as a
/// `WatchEvent` the way `Reflector` does.
///
/// The first input byte sets the event size cap (32 to 8,192 bytes, so dropping oversized lines is reached); the
/// second seeds the chunk sizes the body is cut into; the rest is the body. Property: whatever the chunking, the
/// framer gives exactly what splitting the whole body at newlines gives, namely each line trimmed (empty ones
/// skipped), and one `.oversized` for each line longer than the cap, including a last line without a newline.
/// Then every line decodes to an event or a typed error.
enum WatchFramingFuzzEntry {
    static func check(_ input: [UInt8]) -> String? {
        guard input.count >= 2 else { return nil }
        let cap = (Int(input[0]) + 1) * 32
        var random = UInt64(input[1]) &+ 1
        let body = Array(input.dropFirst(2))

        var framer = WatchEventFramer(maximumEventSize: cap)
        var frames: [WatchEventFramer.Frame] = []
        var start = 0
        while start < body.count {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let size = min(body.count - start, Int(random >> 59) + 1)  // 1...32 bytes
            frames += body[start..<(start + size)].withUnsafeBytes { framer.append(bytes: $0) }
            start += size
        }
        frames += framer.finish()

        let expected = reference(body, cap: cap)
        let lines = frames.compactMap { if case .line(let line) = $0 { line } else { nil } }
        let oversized = frames.filter { if case .oversized = $0 { true } else { false } }.count
        guard lines == expected.lines else {
            return "framer lines \(lines.map(\.count)) differ from the body's lines \(expected.lines.map(\.count))"
        }
        guard oversized == expected.oversized else {
            return "framer reported \(oversized) oversized lines, the body has \(expected.oversized)"
        }
        for line in lines {
            for kind in KubeObjectKind.allCases { _ = try? WatchEvent.decode(line: line, kind: kind) }
        }
        return nil
    }

    /// The body split at newlines in one piece: trimmed non-empty lines of at most `cap` bytes, and how many
    /// lines were longer than `cap` (measured before trimming, as the framer measures).
    static func reference(_ body: [UInt8], cap: Int) -> (lines: [[UInt8]], oversized: Int) {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A }
        var lines: [[UInt8]] = []
        var oversized = 0
        for raw in body.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            if raw.count > cap {
                oversized += 1
                continue
            }
            guard let first = raw.firstIndex(where: { !isSpace($0) }), let last = raw.lastIndex(where: { !isSpace($0) })
            else { continue }
            lines.append(Array(raw[first...last]))
        }
        return (lines, oversized)
    }
}
