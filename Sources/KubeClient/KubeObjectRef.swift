/// An object's identity within one member: kind, namespace (empty for Nodes) and name.
public struct KubeObjectRef: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var kind: KubeObjectKind
    public var namespace: String
    public var name: String

    public init(kind: KubeObjectKind, namespace: String, name: String) {
        self.kind = kind
        self.namespace = namespace
        self.name = name
    }

    public var description: String {
        namespace.isEmpty ? "\(kind) \(name)" : "\(kind) \(namespace)/\(name)"
    }

    public static func < (lhs: KubeObjectRef, rhs: KubeObjectRef) -> Bool {
        (lhs.kind.rawValue, lhs.namespace, lhs.name) < (rhs.kind.rawValue, rhs.namespace, rhs.name)
    }
}
