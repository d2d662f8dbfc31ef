/// The read-only requests an agent forwards to its API server: discovery, list or watch of the four kinds mcdns
/// reads, and the `kube-system` Namespace (its uid is the member's identity, which the host's reflectors check
/// before resuming a watch, DESIGN §6). Everything else, other methods, other resources, other single objects,
/// subresources, is refused.
///
/// Matching works on path segments, so `/api/v1/services/../secrets` or an encoded slash cannot slip through: a
/// segment must be a plain name made of the characters Kubernetes allows in namespaces.
public struct TunnelAllowList: Sendable {
    static let discovery: Set<String> = [
        "/version", "/api", "/apis", "/api/v1", "/apis/discovery.k8s.io/v1", "/apis/multicluster.x-k8s.io/v1alpha1",
        "/api/v1/namespaces/kube-system",
    ]

    /// (API group path, resource, namespaced).
    static let collections: [(prefix: [String], resource: String, namespaced: Bool)] = [
        (["api", "v1"], "services", true),
        (["api", "v1"], "nodes", false),
        (["apis", "discovery.k8s.io", "v1"], "endpointslices", true),
        (["apis", "multicluster.x-k8s.io", "v1alpha1"], "serviceexports", true),
    ]

    public init() {}

    /// Whether `method` on `target` (path with optional query) may be forwarded.
    public func allows(method: String, target: String) -> Bool {
        guard method == "GET" else { return false }
        let path =
            target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        if Self.discovery.contains(path) { return true }
        guard path.hasPrefix("/") else { return false }
        let segments = path.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        for (prefix, resource, namespaced) in Self.collections where segments.starts(with: prefix) {
            let rest = Array(segments.dropFirst(prefix.count))
            if rest == [resource] { return true }
            if namespaced, rest.count == 3, rest[0] == "namespaces", Self.isName(rest[1]), rest[2] == resource {
                return true
            }
        }
        return false
    }

    /// A DNS-1123 label, as namespace names are.
    static func isName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 63 else { return false }
        return text.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
    }
}
