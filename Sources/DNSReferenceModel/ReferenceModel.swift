public import DNSWire
public import MCDNSModel

/// The plainest implementation of "the answers for these records" (DESIGN §9): RRsets in a dictionary per owner
/// name, made directly from the merged `ServiceDNSRecord`s, the members and the static zone files by the naming
/// rules of DESIGN §4, and answered by RFC 1034 §4.3.2 over those dictionaries. It imports nothing of
/// `DNSAnswer`, so the compiled table and this model cannot share a bug; it is for tests only, and slow on purpose.
///
/// Scope: zone files without delegations or wildcards (the model refuses them: referrals and RFC 4592 are the
/// static zone engine's business, tested on their own); answers over TCP (no truncation).
public struct ReferenceModel: Sendable {
    public enum ModelError: Error, CustomStringConvertible {
        case unsupported(String)
        public var description: String {
            switch self { case .unsupported(let what): return "the reference model does not cover \(what)" }
        }
    }

    /// One served zone: its file records by owner.
    struct StaticZone: Sendable {
        var origin: DomainName
        var soa: ResourceRecord
        var records: [DomainName: [RRType: [ResourceRecord]]]
        /// Live zones (the federation and clusterset domains) carry the table's serial in their SOA.
        var followsSerial: Bool
    }

    public let naming: ReferenceNaming
    public private(set) var members: [ClusterID: ClusterInfo] = [:]
    public private(set) var records: [ServiceKey: ServiceDNSRecord] = [:]
    public var serial: UInt32 = 0
    let zones: [StaticZone]
    /// The live names of each service, as last made.
    private var namesByService: [ServiceKey: [DomainName]] = [:]
    /// Every live name, with the service that holds it (the first to claim it, in key order when rebuilt).
    private var live: [DomainName: (service: ServiceKey, node: ReferenceNode)] = [:]
    /// For every name that exists only because names sit below it, how many (live) names do.
    private var below: [DomainName: Int] = [:]
    /// Names two services both made (the second is not served): a test input should have none.
    public private(set) var collisions: [DomainName] = []

    public init(zones: [Zone], naming: ReferenceNaming) throws(ModelError) {
        self.naming = naming
        var made: [StaticZone] = []
        for zone in zones {
            guard let soa = zone.soa else { throw .unsupported("a zone without SOA (\(zone.origin))") }
            var records: [DomainName: [RRType: [ResourceRecord]]] = [:]
            for record in zone.records where record.owner.isSubdomain(of: zone.origin) {
                if record.type == .ns && record.owner != zone.origin { throw .unsupported("delegations") }
                if record.owner.isWildcard { throw .unsupported("wildcards") }
                var set = records[record.owner]?[record.type] ?? []
                if !set.contains(where: { $0.rdata == record.rdata }) { set.append(record) }
                records[record.owner, default: [:]][record.type] = set
            }
            made.append(StaticZone(origin: zone.origin, soa: soa, records: records,
                                   followsSerial: zone.origin == naming.federationDomain
                                       || zone.origin == naming.clustersetDomain))
        }
        self.zones = made.sorted { $0.origin.labelCount > $1.origin.labelCount }
    }

    // MARK: - Input

    /// Sets the member list; every service's names are made again (they depend on links and localities).
    public mutating func setMembers(_ list: [ClusterInfo]) {
        members = Dictionary(list.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
        remakeAll()
    }

    /// Replaces or adds records and drops keys, as a `RecordChanges` batch does.
    public mutating func apply(upserted: [ServiceDNSRecord], removed: [ServiceKey]) {
        for key in removed { records[key] = nil }
        for record in upserted { records[record.key] = record }
        if upserted.count + removed.count > records.count / 2 {
            remakeAll()
            return
        }
        for key in removed { unplace(key) }
        for record in upserted { unplace(record.key) }
        for record in upserted { place(record) }
    }

    /// Replaces everything.
    public mutating func reset(records list: [ServiceDNSRecord], members memberList: [ClusterInfo]) {
        records = Dictionary(list.map { ($0.key, $0) }, uniquingKeysWith: { _, last in last })
        setMembers(memberList)
    }

    private mutating func remakeAll() {
        live = [:]
        below = [:]
        namesByService = [:]
        collisions = []
        for key in records.keys.sorted() { place(records[key]!) }
    }

    private mutating func place(_ record: ServiceDNSRecord) {
        let maker = ReferenceNames(naming: naming, members: members)
        var placed: [DomainName] = []
        for (name, node) in maker.names(of: record) {
            guard let zone = zone(of: name) else { continue }
            // A name the zone file fills is served as the file says.
            if zone.records[name] != nil { continue }
            if let holder = live[name] {
                if holder.service != record.key { collisions.append(name) }
                continue
            }
            live[name] = (record.key, node)
            placed.append(name)
            var parent = name.parent
            while let current = parent, current.isSubdomain(of: zone.origin), current != zone.origin {
                below[current, default: 0] += 1
                parent = current.parent
            }
        }
        namesByService[record.key] = placed
    }

    private mutating func unplace(_ key: ServiceKey) {
        guard let names = namesByService.removeValue(forKey: key) else { return }
        for name in names {
            live[name] = nil
            let origin = zone(of: name)!.origin
            var parent = name.parent
            while let current = parent, current.isSubdomain(of: origin), current != origin {
                below[current]! -= 1
                if below[current] == 0 { below[current] = nil }
                parent = current.parent
            }
        }
    }

    // MARK: - Reading

    func zone(of name: DomainName) -> StaticZone? { zones.first { name.isSubdomain(of: $0.origin) } }

    /// Every name that exists: file names, live names and the empty non-terminals above them.
    public var allNames: [DomainName] {
        var names = Set(live.keys).union(below.keys)
        for zone in zones {
            names.insert(zone.origin)
            for owner in zone.records.keys {
                names.insert(owner)
                var parent = owner.parent
                while let current = parent, current.isSubdomain(of: zone.origin) {
                    names.insert(current)
                    parent = current.parent
                }
            }
        }
        return names.sorted()
    }

    /// The service whose live name `name` is, if any.
    public func service(holding name: DomainName) -> ServiceKey? { live[name]?.service }

    /// The live names of a service now.
    public func names(of key: ServiceKey) -> [DomainName] { namesByService[key] ?? [] }

    /// The types the name has records of, for anyone.
    public func types(at name: DomainName) -> [RRType] {
        guard let zone = zone(of: name) else { return [] }
        return node(name, in: zone, requester: nil).map { Array($0.rrsets.keys) } ?? []
    }

    /// The node at `name`: file records, else live records (a requester's where it has its own), else an empty
    /// non-terminal (no records), else nil (the name does not exist).
    func node(_ name: DomainName, in zone: StaticZone, requester: ClusterID?) -> ReferenceNode? {
        if let records = zone.records[name] { return ReferenceNode(rrsets: records) }
        if var found = live[name]?.node {
            if let requester, let own = found.byRequester[requester] { found.rrsets = own }
            return found
        }
        if below[name] != nil || name == zone.origin { return ReferenceNode(rrsets: [:]) }
        // A name above a file record exists too.
        for owner in zone.records.keys where owner.isSubdomain(of: name) { return ReferenceNode(rrsets: [:]) }
        return nil
    }

    /// Whether `requester`'s answer at `name` differs from everyone's.
    public func hasOwnAnswer(_ name: DomainName, requester: ClusterID) -> Bool {
        live[name]?.node.byRequester[requester] != nil
    }
}
