public import DNSWire

/// Why the daemon would not start: every configuration, zone and compile problem found, each with its place.
public struct StartupError: Error, Equatable, Sendable, CustomStringConvertible {
    public var errors: [SourceError]

    public init(_ errors: [SourceError]) {
        self.errors = errors
    }

    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
