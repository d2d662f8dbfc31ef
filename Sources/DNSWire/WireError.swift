/// Every failure of DNSWire, typed so callers can switch over it.
public enum WireError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A domain name in presentation form could not be read.
    case invalidName(String, reason: String)
    /// A record in presentation form could not be read.
    case invalidRecord(String, reason: String)
    /// ldns could not allocate or returned an unexpected state.
    case ldns(String)

    public var description: String {
        switch self {
        case .invalidName(let name, let reason): return "invalid domain name \"\(name)\": \(reason)"
        case .invalidRecord(let text, let reason): return "invalid record \"\(text)\": \(reason)"
        case .ldns(let message): return "ldns: \(message)"
        }
    }
}

/// An error tied to a place in a source file: what `mcdns check` prints as `file:line: message`.
public struct SourceError: Error, Equatable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if let line { return "\(file):\(line): \(message)" }
        return "\(file): \(message)"
    }
}
