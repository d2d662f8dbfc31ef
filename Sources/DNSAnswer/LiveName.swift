public import DNSWire
public import MCDNSModel

/// A name made from live records, with the RRsets every requester gets and the ones a known cluster gets instead.
public struct LiveName: Sendable, Equatable {
    public var name: DomainName
    public var rrsets: [RRType: [ResourceRecord]]
    /// RRsets for requesters known to sit in a cluster, where they differ from `rrsets` (DESIGN §4.3).
    public var variants: [ClusterID: [RRType: [ResourceRecord]]]
    /// The SOA TTL of NODATA answers at this name (a known service: short, `ttl.negative`).
    public var negativeTTL: UInt32?
    /// The answer is a fallback step or stale data (for `explain`).
    public var degraded: Bool

    public init(name: DomainName, rrsets: [RRType: [ResourceRecord]] = [:],
                variants: [ClusterID: [RRType: [ResourceRecord]]] = [:], negativeTTL: UInt32? = nil,
                degraded: Bool = false) {
        self.name = name
        self.rrsets = rrsets
        self.variants = variants
        self.negativeTTL = negativeTTL
        self.degraded = degraded
    }
}
