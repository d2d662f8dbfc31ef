public import MCDNSModel

/// One member cluster (`clusters[]` in the configuration file).
public struct MemberConfiguration: Sendable, Equatable {
    public var name: ClusterID
    /// The member's region; nil = from its Nodes' `topology.kubernetes.io/region` labels.
    public var region: String?
    /// The member's zones, its own zone first; nil = from its Nodes' zone labels.
    public var zones: [String]?
    public var source: MemberSourceConfiguration

    public init(name: ClusterID, region: String? = nil, zones: [String]? = nil, source: MemberSourceConfiguration) {
        self.name = name
        self.region = region
        self.zones = zones
        self.source = source
    }
}
