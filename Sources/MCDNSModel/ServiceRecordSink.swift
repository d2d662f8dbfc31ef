/// The link state of a member (DESIGN §5).
public enum LinkState: String, Hashable, Sendable, Codable {
    /// Watches are current.
    case synced
    /// Disconnected for less than `staleGracePeriod`: last-known targets stay, with the degraded TTL.
    case stale
    /// Beyond the grace, or never synced: its targets leave the answers.
    case offline
}

/// What the DNS half needs to know of a member besides the records.
public struct ClusterInfo: Hashable, Sendable, Codable {
    public var id: ClusterID
    public var locality: Locality
    public var link: LinkState
    /// Set while the cluster is drained: its targets leave every answer (`TargetServing.selecting`); its watches
    /// and data are untouched.
    public var drain: ClusterDrain?

    public init(id: ClusterID, locality: Locality, link: LinkState, drain: ClusterDrain? = nil) {
        self.id = id
        self.locality = locality
        self.link = link
        self.drain = drain
    }
}

/// Why a cluster is drained: `clusters[].drain: true` in the configuration, or `mcdns drain` through the admin API.
public struct ClusterDrain: Hashable, Sendable, Codable {
    public enum Origin: String, Hashable, Sendable, Codable {
        /// `clusters[].drain: true`: lasts while the configuration says so (reloaded by SIGHUP).
        case configuration
        /// `mcdns drain`: held in the daemon's memory until `mcdns undrain` or a restart.
        case admin
    }

    public var origin: Origin
    /// The operator's words (`mcdns drain --reason`), if any.
    public var reason: String?

    public init(origin: Origin, reason: String? = nil) {
        self.origin = origin
        self.reason = reason
    }

    /// "drained by the configuration" or "drained by mcdns drain (REASON)", for conditions, logs and explain.
    public var description: String {
        (origin == .configuration ? "drained by the configuration" : "drained by mcdns drain")
            + (reason.map { " (\($0))" } ?? "")
    }
}

/// One batch of changes from the controller: records to put (replacing any with the same key) and keys to drop.
public struct RecordChanges: Sendable, Equatable {
    public var upserted: [ServiceDNSRecord]
    public var removed: [ServiceKey]
    /// The full member list when it changed (link states, localities), else nil.
    public var clusters: [ClusterInfo]?

    public init(upserted: [ServiceDNSRecord] = [], removed: [ServiceKey] = [], clusters: [ClusterInfo]? = nil) {
        self.upserted = upserted
        self.removed = removed
        self.clusters = clusters
    }

    public var isEmpty: Bool { upserted.isEmpty && removed.isEmpty && clusters == nil }
}

/// Where the controller publishes merged records. `RecordStore` implements it; tests record the calls.
public protocol ServiceRecordSink: Sendable {
    func apply(_ changes: RecordChanges) async
}
