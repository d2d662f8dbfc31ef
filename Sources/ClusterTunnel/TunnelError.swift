/// What can go wrong with a tunnel, said so that the log line tells the operator what to do.
public enum TunnelError: Error, Equatable, CustomStringConvertible {
    /// A configuration file could not be read or parsed.
    case configuration(String)
    /// The session was closed or replaced before or while the request ran.
    case sessionClosed(cluster: String)
    /// The session already has `limit` streams open.
    case tooManyStreams(cluster: String, limit: Int)
    /// No response head within the time-to-first-byte limit.
    case timeToFirstByteExceeded(path: String, seconds: Double)
    /// The stream was reset or the tunnel broke before the response ended.
    case streamReset(path: String)
    /// No session for the cluster arrived in time.
    case noSession(cluster: String)
    /// The host answered the upgrade request with something other than 101.
    case upgradeRefused(status: Int, message: String)
    /// The `--host` URL is not `wss://HOST:PORT`.
    case invalidHostURL(String)

    public var description: String {
        switch self {
        case .configuration(let message):
            return message
        case .sessionClosed(let cluster):
            return "the tunnel session of cluster \(cluster) is closed"
        case .tooManyStreams(let cluster, let limit):
            return "the tunnel of cluster \(cluster) already has \(limit) streams open (maxConcurrentStreams)"
        case .timeToFirstByteExceeded(let path, let seconds):
            return "no response head for GET \(path) within \(seconds) s through the tunnel"
        case .streamReset(let path):
            return "the tunnel stream of \(path) was reset before its response ended"
        case .noSession(let cluster):
            return "no tunnel session for cluster \(cluster): its agent is not connected"
        case .upgradeRefused(let status, let message):
            return "the host refused the tunnel with HTTP \(status): \(message)"
        case .invalidHostURL(let text):
            return "\(text) is not a tunnel URL; expected wss://HOST:PORT (for example wss://mcdns.example.com:8443)"
        }
    }
}
