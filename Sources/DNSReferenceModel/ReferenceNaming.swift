public import DNSWire
public import MCDNSModel

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The naming settings the model follows (DESIGN §3 `federation`, `clusterset`, `ttl`, `locality`): its own
/// copy of them, so nothing of `DNSAnswer` is needed to build the model.
public struct ReferenceNaming: Sendable, Equatable {
    public enum Level: String, Sendable, Equatable, CaseIterable {
        case cluster, zone, region, global
    }

    /// A source network whose queries come from a known cluster.
    public struct Subnet: Sendable, Equatable {
        /// 4 or 16 bytes, host bits zero.
        public var network: [UInt8]
        public var prefixLength: Int
        public var cluster: ClusterID

        public init(network: [UInt8], prefixLength: Int, cluster: ClusterID) {
            self.network = network
            self.prefixLength = prefixLength
            self.cluster = cluster
        }

        public func contains(_ address: [UInt8]) -> Bool {
            guard address.count == network.count else { return false }
            for bit in 0..<prefixLength {
                let mask = UInt8(0x80) >> UInt8(bit % 8)
                if address[bit / 8] & mask != network[bit / 8] & mask { return false }
            }
            return true
        }
    }

    public var federationName: String?
    public var federationDomain: DomainName?
    public var clustersetDomain: DomainName?
    public var recordTTL: UInt32
    public var degradedTTL: UInt32
    public var negativeTTL: UInt32
    public var policy: [Level]
    public var ednsLocalOption: UInt16?
    public var subnets: [Subnet]
    /// The UDP payload size the server announces in its OPT (`dns.maxUDPPayload`).
    public var serverUDPPayload: Int

    public init(federationName: String?, federationDomain: DomainName?, clustersetDomain: DomainName?,
                recordTTL: UInt32, degradedTTL: UInt32, negativeTTL: UInt32, policy: [Level],
                ednsLocalOption: UInt16?, subnets: [Subnet], serverUDPPayload: Int = 1232) {
        self.federationName = federationName
        self.federationDomain = federationDomain
        self.clustersetDomain = clustersetDomain
        self.recordTTL = recordTTL
        self.degradedTTL = degradedTTL
        self.negativeTTL = negativeTTL
        self.policy = policy
        self.ednsLocalOption = ednsLocalOption
        self.subnets = subnets
        self.serverUDPPayload = serverUDPPayload
    }
}
