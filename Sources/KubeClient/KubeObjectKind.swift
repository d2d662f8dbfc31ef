/// The kinds mcdns reads.
public enum KubeObjectKind: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case service = "Service"
    case endpointSlice = "EndpointSlice"
    case serviceExport = "ServiceExport"
    case node = "Node"
    /// The host cluster's merged records (mcdns's own CRD); read by the status writer and for user specs.
    case serviceDNSRecord = "ServiceDNSRecord"

    /// What a member source reads (everything but mcdns's own records, which live in the host cluster).
    public static let memberKinds: [KubeObjectKind] = [.service, .endpointSlice, .serviceExport, .node]

    /// The apiVersion mcdns reads the kind in.
    public var apiVersion: String {
        switch self {
        case .service, .node: return "v1"
        case .endpointSlice: return "discovery.k8s.io/v1"
        case .serviceExport: return "multicluster.x-k8s.io/v1alpha1"
        case .serviceDNSRecord: return "multicluster.mcdns.io/v1alpha1"
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
        case .serviceDNSRecord: return "servicednsrecords"
        }
    }

    /// The collection path, cluster-wide or (for namespaced kinds) in one namespace.
    public func collectionPath(namespace: String? = nil) -> String {
        let prefix = group.isEmpty ? "/api/\(apiVersion)" : "/apis/\(apiVersion)"
        if let namespace, self != .node { return "\(prefix)/namespaces/\(namespace)/\(resource)" }
        return "\(prefix)/\(resource)"
    }
}
