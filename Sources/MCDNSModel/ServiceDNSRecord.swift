/// The merged view of one exported service across all member clusters (kubefed's ServiceDNSRecord, extended).
/// The controller computes it; the DNS half compiles it into names. Plain values only.
///
/// A value type whose fields live in one shared, copy-on-write box: the controller's published records and the
/// DNS side's records hold the same records, and inline each copy took about 290 bytes of dictionary space per
/// service at 100,000 services (heaptrack, issue 3). A copy is one reference until either side changes it.
public struct ServiceDNSRecord: Hashable, Sendable, Codable {
    /// Mutated only through `unique()`, so a box another record still sees is never changed.
    private final class Storage: @unchecked Sendable {
        var key: ServiceKey
        var spec: Spec
        var status: Status

        init(key: ServiceKey, spec: Spec, status: Status) {
            self.key = key
            self.spec = spec
            self.status = status
        }
    }

    private var storage: Storage

    public var key: ServiceKey {
        get { storage.key }
        _modify {
            unique()
            yield &storage.key
        }
    }

    public var spec: Spec {
        get { storage.spec }
        _modify {
            unique()
            yield &storage.spec
        }
    }

    public var status: Status {
        get { storage.status }
        _modify {
            unique()
            yield &storage.status
        }
    }

    public init(key: ServiceKey, spec: Spec = Spec(), status: Status = Status()) {
        storage = Storage(key: key, spec: spec, status: status)
    }

    private mutating func unique() {
        if !isKnownUniquelyReferenced(&storage) {
            storage = Storage(key: storage.key, spec: storage.spec, status: storage.status)
        }
    }

    public static func == (lhs: ServiceDNSRecord, rhs: ServiceDNSRecord) -> Bool {
        lhs.storage === rhs.storage
            || (lhs.key == rhs.key && lhs.spec == rhs.spec && lhs.status == rhs.status)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(key)
        hasher.combine(spec)
        hasher.combine(status)
    }

    private enum CodingKeys: String, CodingKey {
        case key, spec, status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(key: try container.decode(ServiceKey.self, forKey: .key),
                  spec: try container.decode(Spec.self, forKey: .spec),
                  status: try container.decode(Status.self, forKey: .status))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(key, forKey: .key)
        try container.encode(spec, forKey: .spec)
        try container.encode(status, forKey: .status)
    }

    /// kubefed-compatible spec, set by users through a ServiceDNSRecord object or annotations.
    public struct Spec: Hashable, Sendable, Codable {
        /// The federation domain object this record belongs to (kubefed `domainRef`); informational here.
        public var domainRef: String?
        /// TTL of the records; nil = `ttl.record` from the config.
        public var recordTTL: UInt32?
        /// Adds `<dnsPrefix>.<domain>` as a CNAME to the global name.
        public var dnsPrefix: String?
        /// Replaces the service name in every federation name.
        public var externalName: String?
        /// Publish clusters whose service has no ready endpoints (for example a LoadBalancer fronting nothing yet).
        public var allowServiceWithoutEndpoints: Bool

        public init(domainRef: String? = nil, recordTTL: UInt32? = nil, dnsPrefix: String? = nil,
                    externalName: String? = nil, allowServiceWithoutEndpoints: Bool = false) {
            self.domainRef = domainRef
            self.recordTTL = recordTTL
            self.dnsPrefix = dnsPrefix
            self.externalName = externalName
            self.allowServiceWithoutEndpoints = allowServiceWithoutEndpoints
        }
    }

    public struct Status: Hashable, Sendable, Codable {
        /// One entry per cluster that exports the service (kubefed `status.dns`).
        public var dns: [ClusterDNS]
        /// Headless (clusterIP None) after conflict resolution: the oldest export decides.
        public var headless: Bool
        /// ExternalName services: the target every name points at with a CNAME.
        public var externalTarget: String?
        /// The union of ports by (name, protocol, port).
        public var ports: [ServicePort]
        public var conditions: [Condition]

        public init(dns: [ClusterDNS] = [], headless: Bool = false, externalTarget: String? = nil,
                    ports: [ServicePort] = [], conditions: [Condition] = []) {
            self.dns = dns
            self.headless = headless
            self.externalTarget = externalTarget
            self.ports = ports
            self.conditions = conditions
        }
    }
}

/// What one cluster contributes to a record.
public struct ClusterDNS: Hashable, Sendable, Codable {
    public var cluster: ClusterID
    public var region: String
    /// The zones of the cluster (kubefed lists several; the first is the cluster's own zone for answers).
    public var zones: [String]
    /// LoadBalancer ingress (kubefed `loadBalancer.ingress`).
    public var loadBalancer: [LoadBalancerIngress]
    /// The Service's clusterIPs (empty for headless and ExternalName).
    public var clusterIPs: [String]
    /// Endpoints merged across the cluster's EndpointSlices (one entry per address).
    public var endpoints: [Endpoint]
    /// Ready endpoints, as counted for health.
    public var readyEndpoints: Int
    /// The member's link is stale: these targets are last-known, answered with the degraded TTL.
    public var stale: Bool
    /// Seconds since the epoch when this cluster's data was last observed current.
    public var lastObserved: Double?

    public init(cluster: ClusterID, region: String, zones: [String], loadBalancer: [LoadBalancerIngress] = [],
                clusterIPs: [String] = [], endpoints: [Endpoint] = [], readyEndpoints: Int = 0, stale: Bool = false,
                lastObserved: Double? = nil) {
        self.cluster = cluster
        self.region = region
        self.zones = zones
        self.loadBalancer = loadBalancer
        self.clusterIPs = clusterIPs
        self.endpoints = endpoints
        self.readyEndpoints = readyEndpoints
        self.stale = stale
        self.lastObserved = lastObserved
    }

    /// The cluster's own zone (`unknown` when it has none).
    public var zone: String { zones.first ?? Locality.unknown }
    public var locality: Locality { Locality(region: region, zone: zone) }
}

public struct LoadBalancerIngress: Hashable, Sendable, Codable {
    public var ip: String?
    public var hostname: String?

    public init(ip: String? = nil, hostname: String? = nil) {
        self.ip = ip
        self.hostname = hostname
    }
}

public struct Endpoint: Hashable, Sendable, Codable {
    public var address: String
    public var hostname: String?
    public var zone: String?
    public var ready: Bool
    public var serving: Bool
    public var terminating: Bool

    public init(address: String, hostname: String? = nil, zone: String? = nil, ready: Bool = true,
                serving: Bool = true, terminating: Bool = false) {
        self.address = address
        self.hostname = hostname
        self.zone = zone
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }
}

public struct ServicePort: Hashable, Comparable, Sendable, Codable {
    public var name: String?
    /// TCP, UDP or SCTP.
    public var `protocol`: String
    public var port: Int

    public init(name: String?, protocol: String, port: Int) {
        self.name = name
        self.protocol = `protocol`
        self.port = port
    }

    public static func < (lhs: ServicePort, rhs: ServicePort) -> Bool {
        (lhs.name ?? "", lhs.protocol, lhs.port) < (rhs.name ?? "", rhs.protocol, rhs.port)
    }
}

/// A Kubernetes-style condition (Ready, Conflict, Degraded).
public struct Condition: Hashable, Sendable, Codable {
    public var type: String
    /// "True", "False" or "Unknown".
    public var status: String
    public var reason: String
    public var message: String

    public init(type: String, status: String, reason: String, message: String = "") {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}
