public import ClusterTunnel
public import KubeClient

/// `KubeClient`'s connector over the reverse tunnel: each request becomes one HTTP/2 stream of the cluster's
/// current `TunnelSession`. The two modules never import each other; this is where they meet (DESIGN §2).
///
/// When no agent is connected the request waits up to `sessionWait` for one, then fails like a refused
/// connection would, so the reflector backs off and the member's link goes stale under the staleness policy.
///
/// It is a `KubeReconnectingConnector`: a reflector backing off after the tunnel broke retries as soon as the agent
/// has a new session, rather than after up to 30 s of backoff.
public struct TunnelKubeConnector: KubeReconnectingConnector {
    public let server: TunnelServer
    public let cluster: String
    public let sessionWait: Duration

    public init(server: TunnelServer, cluster: String, sessionWait: Duration = .seconds(5)) {
        self.server = server
        self.cluster = cluster
        self.sessionWait = sessionWait
    }

    public func execute(_ request: KubeRequest) async throws -> KubeResponse {
        guard request.body == nil else {
            throw TunnelError.configuration(
                "the tunnel carries read-only GETs; \(request.method) \(request.path) has a body"
            )
        }
        let session = try await currentSession()
        let response = try await session.request(
            method: request.method,
            path: request.path,
            headers: request.headers.map { ($0.name, $0.value) }
        )
        return KubeResponse(
            status: response.status,
            headers: response.headers.map { (name: $0.0, value: $0.1) },
            body: response.body
        )
    }

    /// The newest session id the server has handed out (any cluster): sessions only get larger ids.
    public func connectionEpoch() -> UInt64 {
        server.latestSessionID
    }

    /// Returns once this cluster has an active session newer than `epoch`.
    public func waitForConnection(newerThan epoch: UInt64) async throws {
        _ = try await server.nextSession(for: cluster, newerThan: epoch)
    }

    private func currentSession() async throws -> TunnelSession {
        if let session = server.session(for: cluster) { return session }
        let server = self.server
        let cluster = self.cluster
        let wait = sessionWait
        return try await withThrowingTaskGroup(of: TunnelSession?.self) { group in
            group.addTask { try await server.nextSession(for: cluster) }
            group.addTask {
                try await Task.sleep(for: wait)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let session = first else {
                throw TunnelError.noSession(cluster: cluster)
            }
            return session
        }
    }
}
