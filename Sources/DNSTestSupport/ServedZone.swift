/// A zone file and its origin, as handed to a reference server.
public struct ServedZone: Sendable, Hashable {
    /// Absolute origin, with the final dot (`diff.test.`).
    public var origin: String
    /// Absolute path of the RFC 1035 master file.
    public var path: String

    public init(origin: String, path: String) {
        self.origin = origin.hasSuffix(".") ? origin : origin + "."
        self.path = path
    }
}
