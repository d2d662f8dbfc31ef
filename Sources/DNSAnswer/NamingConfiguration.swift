public import DNSWire
public import MCDNSModel

/// The parts of the configuration that shape live names and answers (DESIGN §3, §4).
public struct NamingConfiguration: Sendable, Equatable {
    /// The kubefed federation name (`acme` in `web.shop.acme.svc.example.com`); nil = no federation names.
    public var federationName: String?
    /// The federation domain; its zone file must be loaded.
    public var federationDomain: DomainName?
    /// The MCS domain (`clusterset.local`); nil = no clusterset names. Its zone file must be loaded.
    public var clustersetDomain: DomainName?
    public var recordTTL: UInt32
    public var degradedTTL: UInt32
    public var negativeTTL: UInt32
    /// The order in which levels are tried for a known requester; the first with healthy targets wins.
    public var localityPolicy: [LocalityLevel]
    /// The EDNS0 option whose value names the requesting cluster (0xffee by default).
    public var ednsLocalOption: UInt16?
    public var requesterSubnets: [RequesterSubnet]

    public init(federationName: String? = nil, federationDomain: DomainName? = nil,
                clustersetDomain: DomainName? = nil, recordTTL: UInt32 = 30, degradedTTL: UInt32 = 5,
                negativeTTL: UInt32 = 5, localityPolicy: [LocalityLevel] = [.cluster, .zone, .region, .global],
                ednsLocalOption: UInt16? = 65518, requesterSubnets: [RequesterSubnet] = []) {
        self.federationName = federationName
        self.federationDomain = federationDomain
        self.clustersetDomain = clustersetDomain
        self.recordTTL = recordTTL
        self.degradedTTL = degradedTTL
        self.negativeTTL = negativeTTL
        self.localityPolicy = localityPolicy
        self.ednsLocalOption = ednsLocalOption
        self.requesterSubnets = requesterSubnets
    }
}

public enum LocalityLevel: String, Sendable, Equatable, CaseIterable {
    case cluster, zone, region, global
}

/// A source subnet whose queries come from a known cluster.
public struct RequesterSubnet: Sendable, Equatable {
    public var network: IPNetwork
    public var cluster: ClusterID

    public init(network: IPNetwork, cluster: ClusterID) {
        self.network = network
        self.cluster = cluster
    }
}
