/// A Service's identity across clusters: the same namespace and name in every member is the same service (MCS
/// "namespace sameness").
public struct ServiceKey: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var namespace: String
    public var name: String

    public init(namespace: String, name: String) {
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(namespace)/\(name)" }

    public static func < (lhs: ServiceKey, rhs: ServiceKey) -> Bool {
        (lhs.namespace, lhs.name) < (rhs.namespace, rhs.name)
    }
}
