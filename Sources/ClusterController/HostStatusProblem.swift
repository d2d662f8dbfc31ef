public import KubeClient

/// Why the status writer could not write a record's ServiceDNSRecord: a lasting cause in the host cluster that an
/// operator fixes, not a transient failure. The writer warns once when a cause appears, says so once when it is
/// gone, and reports the causes present (`StatusWriter.problems`) for the admin API and `/metrics`.
public enum HostStatusProblem: String, Sendable, Hashable, CaseIterable, Codable, Comparable {
    /// The service's namespace does not exist in the host cluster (404 `namespaces "NS" not found`).
    case namespaceMissing
    /// The ServiceDNSRecord CRD is not installed (404 "the server could not find the requested resource").
    case crdMissing
    /// RBAC denies the writer's service account (403 Forbidden).
    case forbidden

    /// The cause behind a failed create or status write, nil for anything else (conflicts, timeouts, 5xx).
    public init?(_ error: KubeAPIError) {
        switch error {
        case .notFound(let status):
            let message = status.message ?? ""
            if message.hasPrefix("namespaces \"") {
                self = .namespaceMissing
            } else if message.contains("could not find the requested resource") {
                self = .crdMissing
            } else {
                return nil
            }
        case .status(let code, _) where code == 403:
            self = .forbidden
        default:
            return nil
        }
    }

    /// What the operator does about it.
    public var advice: String {
        switch self {
        case .namespaceMissing:
            "create the namespace in the host cluster (kubectl create namespace NS), or leave those services "
                + "without a ServiceDNSRecord there: their DNS answers are not affected"
        case .crdMissing:
            "install the CRD: kubectl apply -k deploy/crd"
        case .forbidden:
            "grant mcdns's service account create, get and delete on servicednsrecords and update on "
                + "servicednsrecords/status (deploy/host/rbac.yaml)"
        }
    }

    public static func < (lhs: HostStatusProblem, rhs: HostStatusProblem) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One cause present at the writer's last complete round.
public struct HostStatusProblemReport: Sendable, Equatable, Codable {
    public var cause: HostStatusProblem
    /// Records that could not be written for this cause.
    public var services: Int
    /// One of them, as namespace/name.
    public var example: String
    /// The API server's message for it.
    public var message: String
    public var advice: String
}
