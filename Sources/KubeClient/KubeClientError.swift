/// Why a request could not be sent or answered, in words an operator can act on.
public enum KubeClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Credentials could not be obtained (exec plugin failed, token file unreadable).
    case credentials(String)
    /// The TLS material is unusable (bad PEM).
    case tls(String)
    /// A response that is not what the API server sends.
    case protocolViolation(String)

    public var description: String {
        switch self {
        case .credentials(let message): return "credentials: \(message)"
        case .tls(let message): return "TLS: \(message)"
        case .protocolViolation(let message): return message
        }
    }
}
