import Synchronization

/// The merged view of one exported service across all member clusters (kubefed's ServiceDNSRecord, extended).
/// The controller computes it; the DNS half compiles it into names. Plain values only.
///
/// A value type whose fields live in one shared, copy-on-write box: the controller's published records and the
/// DNS side's records are the same boxes, so a copy is one reference (a dictionary bucket holds 8 bytes, not the
/// fields) until either side changes it. Fields change only through `unique()`.
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
    ///
    /// 16 bytes (a test holds it there): the three texts, which most records leave unset, sit in one shared,
    /// immutable box that exists only when one is set.
    public struct Spec: Hashable, Sendable, Codable {
        /// Immutable: a change makes a new box, so a spec copied elsewhere never sees it.
        private final class Texts: Sendable {
            let domainRef: String?
            let dnsPrefix: String?
            let externalName: String?
            let trafficPolicy: TrafficPolicy?

            init(domainRef: String?, dnsPrefix: String?, externalName: String?, trafficPolicy: TrafficPolicy?) {
                self.domainRef = domainRef
                self.dnsPrefix = dnsPrefix
                self.externalName = externalName
                self.trafficPolicy = trafficPolicy
            }

            /// A box for the texts, nil when none is set.
            static func make(domainRef: String?, dnsPrefix: String?, externalName: String?,
                             trafficPolicy: TrafficPolicy?) -> Texts? {
                domainRef == nil && dnsPrefix == nil && externalName == nil && trafficPolicy == nil
                    ? nil : Texts(domainRef: domainRef, dnsPrefix: dnsPrefix, externalName: externalName,
                                  trafficPolicy: trafficPolicy)
            }
        }

        private var texts: Texts?
        private var ttl: UInt32 = 0
        private var hasTTL = false
        private var allows = false

        /// The federation domain object this record belongs to (kubefed `domainRef`); informational here.
        public var domainRef: String? {
            get { texts?.domainRef }
            set { texts = Texts.make(domainRef: newValue, dnsPrefix: dnsPrefix, externalName: externalName, trafficPolicy: trafficPolicy) }
        }
        /// TTL of the records; nil = `ttl.record` from the config.
        public var recordTTL: UInt32? {
            get { hasTTL ? ttl : nil }
            set {
                ttl = newValue ?? 0
                hasTTL = newValue != nil
            }
        }
        /// Adds `<dnsPrefix>.<domain>` as a CNAME to the global name.
        public var dnsPrefix: String? {
            get { texts?.dnsPrefix }
            set { texts = Texts.make(domainRef: domainRef, dnsPrefix: newValue, externalName: externalName, trafficPolicy: trafficPolicy) }
        }
        /// Replaces the service name in every federation name.
        public var externalName: String? {
            get { texts?.externalName }
            set { texts = Texts.make(domainRef: domainRef, dnsPrefix: dnsPrefix, externalName: newValue, trafficPolicy: trafficPolicy) }
        }
        /// How answers spread over the healthy clusters (README, "Traffic policies"); nil = `nearest`. Kept in the
        /// texts' box: most records leave it unset.
        public var trafficPolicy: TrafficPolicy? {
            get { texts?.trafficPolicy }
            set { texts = Texts.make(domainRef: domainRef, dnsPrefix: dnsPrefix, externalName: externalName, trafficPolicy: newValue) }
        }
        /// Publish clusters whose service has no ready endpoints (for example a LoadBalancer fronting nothing yet).
        public var allowServiceWithoutEndpoints: Bool {
            get { allows }
            set { allows = newValue }
        }

        public init(domainRef: String? = nil, recordTTL: UInt32? = nil, dnsPrefix: String? = nil,
                    externalName: String? = nil, allowServiceWithoutEndpoints: Bool = false,
                    trafficPolicy: TrafficPolicy? = nil) {
            texts = Texts.make(domainRef: domainRef, dnsPrefix: dnsPrefix, externalName: externalName,
                               trafficPolicy: trafficPolicy)
            self.recordTTL = recordTTL
            allows = allowServiceWithoutEndpoints
        }

        public static func == (lhs: Spec, rhs: Spec) -> Bool {
            lhs.recordTTL == rhs.recordTTL && lhs.allows == rhs.allows
                && (lhs.texts === rhs.texts
                    || (lhs.domainRef == rhs.domainRef && lhs.dnsPrefix == rhs.dnsPrefix
                        && lhs.externalName == rhs.externalName && lhs.trafficPolicy == rhs.trafficPolicy))
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(domainRef)
            hasher.combine(recordTTL)
            hasher.combine(dnsPrefix)
            hasher.combine(externalName)
            hasher.combine(allows)
            hasher.combine(trafficPolicy)
        }

        /// The keys the stored fields had (state files and the admin API read them).
        private enum CodingKeys: String, CodingKey {
            case domainRef, recordTTL, dnsPrefix, externalName, allowServiceWithoutEndpoints, trafficPolicy
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            self.init(domainRef: try container.decodeIfPresent(String.self, forKey: .domainRef),
                      recordTTL: try container.decodeIfPresent(UInt32.self, forKey: .recordTTL),
                      dnsPrefix: try container.decodeIfPresent(String.self, forKey: .dnsPrefix),
                      externalName: try container.decodeIfPresent(String.self, forKey: .externalName),
                      allowServiceWithoutEndpoints: try container.decode(Bool.self, forKey: .allowServiceWithoutEndpoints))
            if let text = try container.decodeIfPresent(String.self, forKey: .trafficPolicy) {
                do throws(TrafficPolicy.ParseError) {
                    trafficPolicy = try TrafficPolicy(parsing: text)
                } catch {
                    throw DecodingError.dataCorruptedError(forKey: .trafficPolicy, in: container, debugDescription: "\(error)")
                }
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeIfPresent(domainRef, forKey: .domainRef)
            try container.encodeIfPresent(recordTTL, forKey: .recordTTL)
            try container.encodeIfPresent(dnsPrefix, forKey: .dnsPrefix)
            try container.encodeIfPresent(externalName, forKey: .externalName)
            try container.encode(allows, forKey: .allowServiceWithoutEndpoints)
            try container.encodeIfPresent(trafficPolicy?.description, forKey: .trafficPolicy)
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
    public var clusterIPs: [IPAddress]
    /// Endpoints merged across the cluster's EndpointSlices (one entry per address).
    public var endpoints: [Endpoint]
    /// Ready endpoints, as counted for health.
    public var readyEndpoints: Int
    /// The member's link is stale: these targets are last-known, answered with the degraded TTL.
    public var stale: Bool
    /// Seconds since the epoch when this cluster's data was last observed current.
    public var lastObserved: Double?

    public init(cluster: ClusterID, region: String, zones: [String], loadBalancer: [LoadBalancerIngress] = [],
                clusterIPs: [IPAddress] = [], endpoints: [Endpoint] = [], readyEndpoints: Int = 0, stale: Bool = false,
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
    public var ip: IPAddress?
    public var hostname: String?

    public init(ip: IPAddress? = nil, hostname: String? = nil) {
        self.ip = ip
        self.hostname = hostname
    }
}

/// One address of a cluster's endpoints.
///
/// 32 bytes (a test holds it there): the hostname and zone sit in one immutable box, absent when neither is set,
/// and the box of a zone without a hostname is shared by every endpoint in that zone (`EndpointNames`); equal
/// endpoints compare and hash equal whichever box they hold.
public struct Endpoint: Hashable, Sendable, Codable {
    // The box first, then the address, then the flags: the flags fill the address's last word (size 26, stride 32).
    private var names: EndpointNames?
    public var address: IPAddress
    private var flags: UInt8

    private enum Flag {
        static let ready: UInt8 = 1
        static let serving: UInt8 = 2
        static let terminating: UInt8 = 4
    }

    public var hostname: String? {
        get { names?.hostname }
        set { names = EndpointNames.make(hostname: newValue, zone: zone) }
    }
    public var zone: String? {
        get { names?.zone }
        set { names = EndpointNames.make(hostname: hostname, zone: newValue) }
    }
    public var ready: Bool {
        get { flags & Flag.ready != 0 }
        set { set(Flag.ready, newValue) }
    }
    public var serving: Bool {
        get { flags & Flag.serving != 0 }
        set { set(Flag.serving, newValue) }
    }
    public var terminating: Bool {
        get { flags & Flag.terminating != 0 }
        set { set(Flag.terminating, newValue) }
    }

    private mutating func set(_ flag: UInt8, _ on: Bool) { flags = on ? flags | flag : flags & ~flag }

    public init(address: IPAddress, hostname: String? = nil, zone: String? = nil, ready: Bool = true,
                serving: Bool = true, terminating: Bool = false) {
        self.address = address
        names = EndpointNames.make(hostname: hostname, zone: zone)
        flags = 0
        self.ready = ready
        self.serving = serving
        self.terminating = terminating
    }

    public static func == (lhs: Endpoint, rhs: Endpoint) -> Bool {
        lhs.address == rhs.address && lhs.flags == rhs.flags
            && (lhs.names === rhs.names || (lhs.hostname == rhs.hostname && lhs.zone == rhs.zone))
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address)
        hasher.combine(hostname)
        hasher.combine(zone)
        hasher.combine(flags)
    }

    /// The keys the stored fields had (state files and the admin API read them).
    private enum CodingKeys: String, CodingKey {
        case address, hostname, zone, ready, serving, terminating
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(address: try container.decode(IPAddress.self, forKey: .address),
                  hostname: try container.decodeIfPresent(String.self, forKey: .hostname),
                  zone: try container.decodeIfPresent(String.self, forKey: .zone),
                  ready: try container.decode(Bool.self, forKey: .ready),
                  serving: try container.decode(Bool.self, forKey: .serving),
                  terminating: try container.decode(Bool.self, forKey: .terminating))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(address, forKey: .address)
        try container.encodeIfPresent(hostname, forKey: .hostname)
        try container.encodeIfPresent(zone, forKey: .zone)
        try container.encode(ready, forKey: .ready)
        try container.encode(serving, forKey: .serving)
        try container.encode(terminating, forKey: .terminating)
    }
}

/// An endpoint's hostname and zone. Immutable; a zone without a hostname gets the box made for it before, from a
/// bounded table, so a cluster's endpoints share the few boxes of its zones.
final class EndpointNames: Sendable {
    let hostname: String?
    let zone: String?

    private init(hostname: String?, zone: String?) {
        self.hostname = hostname
        self.zone = zone
    }

    /// The zones' shared boxes. Past `sharedLimit` zones the table starts again (endpoints keep their boxes).
    private static let shared = Mutex<[String: EndpointNames]>([:])
    static var sharedLimit: Int { 1_024 }

    /// A box for the names, nil when neither is set.
    static func make(hostname: String?, zone: String?) -> EndpointNames? {
        guard let zone else { return hostname.map { EndpointNames(hostname: $0, zone: nil) } }
        if hostname != nil { return EndpointNames(hostname: hostname, zone: zone) }
        return shared.withLock { table in
            if let known = table[zone] { return known }
            if table.count >= sharedLimit { table.removeAll(keepingCapacity: true) }
            let made = EndpointNames(hostname: nil, zone: zone)
            table[zone] = made
            return made
        }
    }

    /// True when the two endpoints hold one box (for tests).
    static func shareNames(_ lhs: Endpoint, _ rhs: Endpoint) -> Bool { lhs.namesBox === rhs.namesBox }
}

extension Endpoint {
    var namesBox: EndpointNames? { names }
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
    /// Kubernetes' condition status (`metav1.ConditionStatus`): the condition holds, does not, or cannot be told.
    /// Encoded as Kubernetes spells it, so records, state files and the admin API carry the same JSON strings.
    public enum Status: String, Hashable, Sendable, Codable {
        case `true` = "True"
        case `false` = "False"
        case unknown = "Unknown"

        /// `.true` when `holds`, else `.false`.
        public init(_ holds: Bool) { self = holds ? .true : .false }

        /// Any other string is an error, as it is to the API server: Kubernetes validates a condition's status to
        /// these three (case-sensitive), and the ServiceDNSRecord CRD's schema enumerates them.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let status = Status(rawValue: text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "condition status \"\(text)\" is not one of True, False, Unknown (case-sensitive)"
                )
            }
            self = status
        }
    }

    public var type: String
    public var status: Status
    public var reason: String
    public var message: String

    public init(type: String, status: Status, reason: String, message: String = "") {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
    }
}
