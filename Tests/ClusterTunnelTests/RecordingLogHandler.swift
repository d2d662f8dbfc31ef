import Foundation
import Logging
import NIOConcurrencyHelpers

/// Keeps every log line so a test can assert that a refusal was explained, and what was never said (the token).
final class LogRecorder: Sendable {
    private let lines = NIOLockedValueBox<[String]>([])

    var all: [String] { lines.withLockedValue { $0 } }

    func append(_ line: String) { lines.withLockedValue { $0.append(line) } }

    func contains(_ text: String) -> Bool { all.contains { $0.contains(text) } }

    func logger(_ label: String) -> Logger {
        var logger = Logger(label: label) { _ in RecordingLogHandler(recorder: self) }
        logger.logLevel = .debug
        return logger
    }

    /// Waits until a line containing `text` was logged; false after `timeout`.
    func waitFor(_ text: String, timeout: Duration = .seconds(10)) async -> Bool {
        await eventually(timeout: timeout) { self.contains(text) }
    }
}

/// Polls `condition` every 20 ms until it holds or `timeout` passes: for facts with no event to await (a log line).
func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .debug

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        let fields = merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        let line = "\(event.level) \(event.message) \(fields)"
        recorder.append(line)
        // MCDNS_TEST_LOG=1 prints the lines as they happen, for a failing test's story.
        if ProcessInfo.processInfo.environment["MCDNS_TEST_LOG"] != nil { print(line) }
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
