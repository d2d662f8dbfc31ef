/// The kinds mcdns reads.
public enum KubeObjectKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case service = "Service"
    case endpointSlice = "EndpointSlice"
    case serviceExport = "ServiceExport"
    case node = "Node"

    /// The apiVersion mcdns reads the kind in.
    public var apiVersion: String {
        switch self {
        case .service, .node: return "v1"
        case .endpointSlice: return "discovery.k8s.io/v1"
        case .serviceExport: return "multicluster.x-k8s.io/v1alpha1"
        }
    }

    /// The API group (empty for the core group).
    public var group: String {
        guard let slash = apiVersion.firstIndex(of: "/") else { return "" }
        return String(apiVersion[..<slash])
    }

    public var description: String { rawValue }
}

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
