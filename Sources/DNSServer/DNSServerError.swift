/// A listener that could not start or stopped on its own; `message` names the address and the system error.
public struct DNSServerError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
