public import ClusterTunnel
public import KubeClient

/// The agent's upstream made of a `KubeConnector` (the member's own API server, dialled directly with the
/// member's own credentials): what the tunnel forwards, after its allow-list, reaches the API server through this.
public struct KubeTunnelUpstream: TunnelUpstream {
    public let connector: any KubeConnector

    public init(connector: any KubeConnector) {
        self.connector = connector
    }

    public func forward(method: String, path: String, headers: [(String, String)]) async throws -> TunnelResponse {
        let response = try await connector.execute(
            KubeRequest(method: method, path: path, headers: headers.map { (name: $0.0, value: $0.1) })
        )
        return TunnelResponse(
            status: response.status,
            headers: response.headers.map { ($0.name, $0.value) },
            body: response.body
        )
    }
}
