public import MCDNSModel

/// What an operator sees of one member (`/v1/clusters`, `mcdns clusters`): its source, link and cache.
public struct MemberStatus: Sendable, Equatable, Codable {
    public var cluster: ClusterID
    /// manifests, kubeconfig, tunnel or inCluster.
    public var sourceKind: String
    /// Where the source reads from (a directory, a kubeconfig path), never a credential.
    public var source: String
    public var link: LinkState
    /// The member has been synced at least once since the controller started.
    public var everSynced: Bool
    /// Wall-clock seconds since the epoch when the member last became current (or was last current, when
    /// stale or offline).
    public var lastSync: Double?
    /// Wall-clock seconds since the epoch of the member's last event of any kind.
    public var lastEvent: Double?
    public var locality: Locality
    /// Objects in the member's cache, by kind: services, endpointSlices, serviceExports, nodes.
    public var objects: [String: Int]
    /// Recent problems and link changes, newest last (at most `MemberStatus.conditionLimit`).
    public var conditions: [String]
    /// Set while the member is drained: its targets leave the answers, its watches go on.
    public var drain: ClusterDrain?

    public static let conditionLimit = 10

    public init(
        cluster: ClusterID,
        sourceKind: String,
        source: String,
        link: LinkState,
        everSynced: Bool,
        lastSync: Double?,
        lastEvent: Double?,
        locality: Locality,
        objects: [String: Int],
        conditions: [String],
        drain: ClusterDrain? = nil
    ) {
        self.cluster = cluster
        self.sourceKind = sourceKind
        self.source = source
        self.link = link
        self.everSynced = everSynced
        self.lastSync = lastSync
        self.lastEvent = lastEvent
        self.locality = locality
        self.objects = objects
        self.conditions = conditions
        self.drain = drain
    }
}
