/// A listen address or server setting that cannot be used; `message` says what to write instead.
public struct DNSServerConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
