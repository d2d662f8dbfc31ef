/// Reads the durations of `mcdns.yaml`: `120s`, `2m`, `1h30m`, `500ms`, `250us`, or a bare number of seconds.
enum DurationText {
    static let example = "examples: 120s, 2m, 1h30m, 500ms; at most 87600h"

    /// The longest duration accepted, ten years: beyond it a timer's nanoseconds (NIO's `TimeAmount`, deadlines)
    /// could overflow `Int64` and trap.
    static let maximum = Duration.seconds(10 * 365 * 86400)

    static func parse(_ text: String) -> Duration? {
        guard let duration = parseUnbounded(text), duration <= maximum else { return nil }
        return duration
    }

    private static func parseUnbounded(_ text: String) -> Duration? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        if let seconds = Int64(text), seconds >= 0 { return .seconds(seconds) }
        var total = Duration.zero
        var index = 0
        while index < bytes.count {
            var value: Int64 = 0
            let start = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let (product, overflow) = value.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                value = product + Int64(bytes[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index > start else { return nil }
            let unitStart = index
            while index < bytes.count, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            // Bounded so that a large number cannot overflow Duration's arithmetic.
            guard value <= 1_000_000_000 else { return nil }
            switch String(decoding: bytes[unitStart..<index], as: UTF8.self) {
            case "us", "µs": total += .microseconds(value)
            case "ms": total += .milliseconds(value)
            case "s": total += .seconds(value)
            case "m": total += .seconds(value * 60)
            case "h": total += .seconds(value * 3600)
            default: return nil
            }
        }
        return total
    }
}
