/// Where the agent sends the requests it accepts: the member's own API server, with the member's own credentials.
///
/// `ClusterTunnel` does not know how to reach an API server; the daemon adapts `KubeClient`'s direct connector to
/// this, and tests use a plain loopback HTTP server. The agent calls it only for allow-listed GETs.
public protocol TunnelUpstream: Sendable {
    /// Sends the request and returns once the response head has arrived. Cancelling the task that reads the body
    /// must end the upstream request.
    func forward(method: String, path: String, headers: [(String, String)]) async throws -> TunnelResponse
}
