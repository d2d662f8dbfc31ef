import DNSWire
import Foundation

/// Where the commands print: whole lines, written at once so a supervisor sees them in order.
enum Output {
    enum Stream {
        case standardOutput, standardError
    }

    static func line(_ text: String, to stream: Stream = .standardOutput) {
        let handle = stream == .standardOutput ? FileHandle.standardOutput : FileHandle.standardError
        handle.write(Data((text + "\n").utf8))
    }

    /// One `file:line: message` per line, the form editors and CI annotators understand.
    static func errors(_ errors: [SourceError], to stream: Stream = .standardOutput) {
        for error in errors { line(error.description, to: stream) }
    }
}
