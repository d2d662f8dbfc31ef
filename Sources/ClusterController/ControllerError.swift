public import MCDNSModel

/// Configuration problems found when the controller is built; each says what to change.
public enum ControllerError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidConfiguration(String)
    case sourceNotSupported(cluster: ClusterID, source: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let message):
            return message
        case .sourceNotSupported(let cluster, let source):
            return "cluster \"\(cluster)\": source \(source) is not supported yet; "
                + "use { kubeconfig: FILE, context: NAME }, { inCluster: true } or { manifests: DIR }"
        }
    }
}
