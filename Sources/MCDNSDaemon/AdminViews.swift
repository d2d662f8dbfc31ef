public import MCDNSModel

/// The JSON bodies of the admin API (`/v1/...`). Public so the CLI decodes exactly what the daemon encodes.
public enum AdminViews {
    /// `/v1/records` and `/v1/records/{namespace}/{name}`.
    public struct Records: Codable, Sendable, Equatable {
        public var serial: UInt32
        /// A warm start is in progress: records restored from the state file (or kept over a reload that replaced
        /// the members) wait for some member's resync, for at most `staleGracePeriod`.
        public var warmStart: Bool
        public var records: [Record]
    }

    public struct Record: Codable, Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var spec: ServiceDNSRecord.Spec
        public var status: ServiceDNSRecord.Status
        /// The DNS names this service owns now.
        public var names: [String]
        /// Names that could not be served, and why.
        public var problems: [String]
        /// Restored from the state file and not yet confirmed by a member.
        public var restored: Bool
        /// The clusters whose targets the answers use now, by name (stale ones included).
        public var serving: [String]? = nil
        /// Serving clusters whose link is stale: last-known targets, answered with the degraded TTL.
        public var stale: [String]? = nil
        /// Clusters that export the service whose member is offline: their targets are withdrawn.
        public var offline: [String]? = nil
        /// Healthy clusters left out of the answers because they are drained.
        public var drained: [String]? = nil
        /// True when every healthy cluster is drained, so they all answer as if none were.
        public var allDrained: Bool? = nil
        /// The TTL of the answers while every serving cluster is current (the spec's, else `ttl.record`).
        public var ttl: UInt32? = nil
    }

    /// `/v1/clusters`.
    public struct Clusters: Codable, Sendable, Equatable {
        public var serial: UInt32
        public var clusters: [Cluster]
        /// The host cluster (`host:`): this replica's identity, whether it leads, its status writes; absent
        /// without a `host:` block.
        public var host: HostStatus? = nil
    }

    public struct Cluster: Codable, Sendable, Equatable {
        public var name: String
        /// manifests, kubeconfig, tunnel, inCluster (or "restored" for a member known only from the state file).
        public var sourceKind: String
        public var source: String
        /// synced, stale or offline, as the answers see it (a restored member is stale until it resyncs).
        public var link: String
        /// The link as the member's source reports it.
        public var sourceLink: String?
        public var everSynced: Bool
        /// Wall-clock seconds since the epoch.
        public var lastSync: Double?
        public var lastEvent: Double?
        public var region: String
        public var zone: String
        /// Objects in the member's cache by kind.
        public var objects: [String: Int]
        /// Services the member contributes to.
        public var services: Int
        public var conditions: [String]
        /// The member's state as conditions (DESIGN §6): TunnelConnected (tunnel members), WatchesSynced,
        /// RecordsFresh.
        public var states: [MemberCondition]?
        /// The reverse tunnel, for `source: { tunnel: {} }` members.
        public var tunnel: Tunnel?
        /// True while the cluster is drained (its targets leave the answers); absent when it is not.
        public var drained: Bool? = nil
        /// `configuration` (clusters[].drain) or `admin` (mcdns drain), while drained.
        public var drainedBy: String? = nil
        /// The reason given to `mcdns drain --reason`.
        public var drainReason: String? = nil
    }

    /// The answer to `POST /v1/clusters/{name}/drain` and `/undrain`.
    public struct Drain: Codable, Sendable, Equatable {
        public var cluster: String
        public var drained: Bool
        /// `configuration` or `admin`, while drained.
        public var drainedBy: String?
        public var reason: String?
        /// What now holds, in words.
        public var message: String
    }

    public struct MemberCondition: Codable, Sendable, Equatable {
        public var type: String
        /// `.true` or `.false`, written as Kubernetes conditions are ("True", "False").
        public var status: Condition.Status
        public var message: String
    }

    public struct Tunnel: Codable, Sendable, Equatable {
        public var connected: Bool
        /// Wall-clock seconds since the epoch when `connected` last changed.
        public var since: Double
        public var remoteAddress: String?
        public var authentication: String?
        public var lastError: String?
        public var sessionsAccepted: Int
    }

    /// `/readyz` and `/healthz`.
    public struct Health: Codable, Sendable, Equatable {
        public var status: String
        public var reason: String
        public var serial: UInt32
    }

    /// Every error body: what went wrong and what to do.
    public struct Failure: Codable, Sendable, Equatable {
        public var error: String
    }
}
