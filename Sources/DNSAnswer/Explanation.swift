public import DNSWire
public import MCDNSModel

/// Why a name answers the way it does (DESIGN §4): the service behind it, every candidate cluster with the
/// evidence for its health, the fallback step taken, the TTL and the snapshot serial. Plain values, so the admin
/// API can send it as JSON and the CLI print it.
public struct Explanation: Sendable, Codable, Equatable {
    public var name: String
    public var type: String
    /// The requesting cluster the answer was computed for (nil: an unknown requester).
    public var requester: String?
    public var serial: UInt32
    /// The served zone the name falls in (nil: outside every zone, REFUSED).
    public var zone: String?
    /// `namespace/name` of the service that owns the name, if a service does.
    public var service: String?
    /// global, region, zone, vanity, external, clusterset, clusterset-host, clusterset-srv, static or none.
    public var kind: String
    /// answer, noData, nxDomain, referral or refused.
    public var resolution: String
    public var rcode: RCode
    public var answer: [String]
    public var authority: [String]
    /// The TTL of the answer's first record, or the negative TTL of a NODATA/NXDOMAIN.
    public var ttl: UInt32?
    /// A fallback step or stale data: the degraded TTL applies.
    public var degraded: Bool
    /// The step taken, in words: which level answered and why.
    public var step: String
    public var candidates: [Candidate]
    /// The service's traffic policy strategy (nearest, weighted, failover; `weighted/1` with `answers: 1`) for its
    /// federation names; nil for names no service owns.
    public var strategy: String? = nil
    /// What the strategy did at this name's level, in words: the failover tier that answers, or each healthy
    /// cluster's share of first places, then how many addresses each answer holds under `answers: N`.
    public var policy: String? = nil

    public struct Candidate: Sendable, Codable, Equatable {
        public var cluster: String
        public var region: String
        public var zone: String
        /// synced, stale or offline, as the answers see it.
        public var link: String
        public var readyEndpoints: Int
        /// True when this cluster's targets are in the answers (healthy and not offline).
        public var healthy: Bool
        /// Why it is or is not healthy.
        public var reason: String
        public var targets: [String]
        /// Wall-clock seconds since the epoch when the member was last current.
        public var lastObserved: Double?
        /// The locality level at which this cluster serves the requester (cluster, zone, region, global).
        public var level: String?
        /// The cluster is drained (`mcdns drain` or `clusters[].drain`); absent when it is not.
        public var drained: Bool? = nil
    }
}
