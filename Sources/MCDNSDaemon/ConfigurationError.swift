public import DNSWire

/// Everything wrong with a configuration file, each problem tied to `file:line`.
/// Loading collects all problems it can find instead of stopping at the first.
public struct ConfigurationError: Error, Equatable, Sendable, CustomStringConvertible {
    public var errors: [SourceError]

    public init(_ errors: [SourceError]) {
        self.errors = errors
    }

    /// One line per problem, `file:line: message`.
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}
