/// Where a member's objects come from.
public enum MemberSourceConfiguration: Sendable, Equatable, CustomStringConvertible {
    /// A directory of Kubernetes YAML, watched for changes.
    case manifests(path: String)
    /// A member API server reached directly with a kubeconfig (next issue).
    case kubeconfig(path: String, context: String?)
    /// A member whose agent dials in over the reverse tunnel (§6; later issue).
    case tunnel
    /// The cluster mcdns runs in, with its service account (next issue).
    case inCluster

    public var description: String {
        switch self {
        case .manifests(let path): return "manifests \(path)"
        case .kubeconfig(let path, let context): return "kubeconfig \(path)" + (context.map { " context \($0)" } ?? "")
        case .tunnel: return "tunnel"
        case .inCluster: return "inCluster"
        }
    }
}
