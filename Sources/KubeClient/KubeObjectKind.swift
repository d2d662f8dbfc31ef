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
