/// Why a single-object request (`KubeResourceClient`) failed, typed so callers can act: a conflict means "read
/// again and retry", not found and already exists are answers, the rest are failures to back off from.
public enum KubeAPIError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 409 reason Conflict: the resourceVersion sent is stale (or a delete precondition failed).
    case conflict(KubeStatus)
    /// 409 reason AlreadyExists: a create found the name taken.
    case alreadyExists(KubeStatus)
    /// 404.
    case notFound(KubeStatus)
    /// Any other non-2xx answer.
    case status(code: Int, KubeStatus)
    /// No answer: the connection failed or timed out.
    case transport(String)
    /// An answer that is not what the API server sends (not JSON, too large).
    case invalidResponse(String)

    public var description: String {
        switch self {
        case .conflict(let status): return "conflict: \(status)"
        case .alreadyExists(let status): return "already exists: \(status)"
        case .notFound(let status): return "not found: \(status)"
        case .status(let code, let status): return "HTTP \(code): \(status)"
        case .transport(let message): return "request failed: \(message)"
        case .invalidResponse(let message): return "invalid response: \(message)"
        }
    }
}
