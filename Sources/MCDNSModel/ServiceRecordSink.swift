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

    public init(id: ClusterID, locality: Locality, link: LinkState) {
        self.id = id
        self.locality = locality
        self.link = link
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
