public import Foundation

/// What the admin API (`/v1/clusters`) and the logs say about one cluster's tunnel.
public struct TunnelConnectionStatus: Sendable, Equatable {
    public var cluster: String
    /// The TunnelConnected condition: an authenticated, upgraded session is current.
    public var connected: Bool
    /// When `connected` last changed.
    public var since: Date
    /// The agent's address as the host sees it (the last one, once disconnected).
    public var remoteAddress: String?
    /// How the current agent authenticated: "token" or "client certificate".
    public var authentication: String?
    /// Why the last session ended. A refused attempt leaves it alone: before authentication nothing the
    /// connection says about its cluster is believed (refusals are in the log).
    public var lastError: String?
    /// Sessions accepted for this cluster since the server started.
    public var sessionsAccepted: Int
    /// Sessions that replaced one still connected (a second agent with the cluster's token, or an agent whose old
    /// connection the host had not seen drop): `mcdns_tunnel_takeovers_total`.
    public var takeovers: Int

    public init(
        cluster: String,
        connected: Bool,
        since: Date,
        remoteAddress: String? = nil,
        authentication: String? = nil,
        lastError: String? = nil,
        sessionsAccepted: Int = 0,
        takeovers: Int = 0
    ) {
        self.cluster = cluster
        self.connected = connected
        self.since = since
        self.remoteAddress = remoteAddress
        self.authentication = authentication
        self.lastError = lastError
        self.sessionsAccepted = sessionsAccepted
        self.takeovers = takeovers
    }
}
