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

extension KubeObjectKind {
    /// The plural resource name in API paths.
    public var resource: String {
        switch self {
        case .service: return "services"
        case .endpointSlice: return "endpointslices"
        case .serviceExport: return "serviceexports"
        case .node: return "nodes"
        }
    }

    /// The collection path, cluster-wide or (for namespaced kinds) in one namespace.
    public func collectionPath(namespace: String? = nil) -> String {
        let prefix = group.isEmpty ? "/api/\(apiVersion)" : "/apis/\(apiVersion)"
        if let namespace, self != .node { return "\(prefix)/namespaces/\(namespace)/\(resource)" }
        return "\(prefix)/\(resource)"
    }
}
