public import DNSWire
public import MCDNSModel

/// Static zones plus live records, compiled incrementally: a change to one service recompiles only that service's
/// names (DESIGN §7). Not thread-safe: its owner (RecordStore) serialises calls; the tables it returns are immutable.
public final class LiveTable {
    public let naming: NamingConfiguration
    public let options: ServingOptions
    public private(set) var records: [ServiceKey: ServiceDNSRecord] = [:]
    public private(set) var clusters: [ClusterID: ClusterInfo] = [:]
    /// The names each service owns now.
    public private(set) var namesByService: [ServiceKey: [LiveName]] = [:]
    /// Problems of the last compile of each service (names that could not be made, names taken by another).
    public private(set) var problems: [ServiceKey: [String]] = [:]

    private let staticZones: [ZoneContent]
    private var owners: [DomainName: ServiceKey] = [:]
    private var builder: TableBuilder

    public init(zones: [Zone], naming: NamingConfiguration, options: ServingOptions = ServingOptions()) throws(CompileError) {
        var contents: [ZoneContent] = []
        for zone in zones { contents.append(try ZoneContent(zone: zone)) }
        for (domain, purpose) in [(naming.federationDomain, "federation domain"), (naming.clustersetDomain, "clusterset domain")] {
            guard let domain else { continue }
            guard let index = contents.firstIndex(where: { $0.origin == domain }) else {
                throw .missingZone(domain, purpose: purpose)
            }
            contents[index].followsTableSerial = true
        }
        self.staticZones = contents
        self.naming = naming
        self.options = options
        self.builder = try TableBuilder(zones: contents, options: options)
    }

    /// Compiles everything from scratch (at start, and when the member list changes).
    public func rebuild(serial: UInt32) throws(CompileError) -> AnswerTable {
        let ids = clusters.keys.sorted()
        let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        let subnets = naming.requesterSubnets.compactMap { subnet in
            index[subnet.cluster].map { (network: subnet.network, requester: $0) }
        }
        var fresh = try TableBuilder(zones: staticZones, options: options, requesters: ids, subnets: subnets,
                                     localOption: naming.ednsLocalOption ?? 0)
        owners = [:]
        namesByService = [:]
        problems = [:]
        let names = RecordNames(naming: naming, clusters: clusters)
        _ = try fresh.update(serial: serial) { zones in
            for key in records.keys.sorted() { _ = self.place(records[key]!, names, &zones, index) }
            return []
        }
        let table = try fresh.buildAll(serial: serial)
        builder = fresh
        return table
    }

    /// Applies one batch of changes and returns the new table. On a throw nothing changed.
    public func apply(_ changes: RecordChanges, serial: UInt32) throws(CompileError) -> AnswerTable {
        if let list = changes.clusters {
            let updated = Dictionary(list.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
            if updated != clusters {
                let saved = (records, clusters)
                for key in changes.removed { records[key] = nil }
                for record in changes.upserted { records[record.key] = record }
                clusters = updated
                do {
                    return try rebuild(serial: serial)
                } catch {
                    (records, clusters) = saved
                    throw error
                }
            }
        }
        let index = builder.requesterIndex
        let names = RecordNames(naming: naming, clusters: clusters)
        var nextBuilder = builder
        var nextOwners = owners, nextNames = namesByService, nextProblems = problems, nextRecords = records
        let table = try nextBuilder.update(serial: serial) { zones in
            var touched = Set<DomainName>()
            let keys = Set(changes.removed).union(changes.upserted.map(\.key))
            for key in keys {
                for old in nextNames[key] ?? [] {
                    guard nextOwners[old.name] == key, let z = zones.firstIndex(where: { old.name.isSubdomain(of: $0.origin) })
                    else { continue }
                    nextOwners[old.name] = nil
                    touched.insert(old.name)
                    touched.formUnion(zones[z].removeLive(old.name))
                }
                nextNames[key] = nil
                nextProblems[key] = nil
                nextRecords[key] = nil
            }
            for record in changes.upserted {
                nextRecords[record.key] = record
                let made = Self.place(record, names, &zones, index, &nextOwners, &nextNames, &nextProblems)
                for name in made {
                    var current: DomainName? = name
                    while let each = current, touched.insert(each).inserted { current = each.parent }
                }
            }
            return touched
        }
        builder = nextBuilder
        owners = nextOwners
        namesByService = nextNames
        problems = nextProblems
        records = nextRecords
        return table
    }

    private func place(_ record: ServiceDNSRecord, _ names: RecordNames, _ zones: inout [ZoneContent],
                       _ index: [ClusterID: Int]) -> [DomainName] {
        Self.place(record, names, &zones, index, &owners, &namesByService, &problems)
    }

    private static func place(_ record: ServiceDNSRecord, _ names: RecordNames, _ zones: inout [ZoneContent],
                              _ index: [ClusterID: Int], _ owners: inout [DomainName: ServiceKey],
                              _ namesByService: inout [ServiceKey: [LiveName]],
                              _ problems: inout [ServiceKey: [String]]) -> [DomainName] {
        let (made, trouble) = names.names(for: record)
        var placed: [LiveName] = []
        var messages = trouble.map(\.message)
        for live in made {
            if let owner = owners[live.name], owner != record.key {
                messages.append("\(live.name) is already served for \(owner)")
                continue
            }
            guard let z = zones.firstIndex(where: { live.name.isSubdomain(of: $0.origin) }) else { continue }
            guard zones[z].add(live, requesterIndex: index) else {
                messages.append("\(live.name) is defined in the zone file of \(zones[z].origin); the file wins")
                continue
            }
            owners[live.name] = record.key
            placed.append(live)
        }
        namesByService[record.key] = placed
        problems[record.key] = messages.isEmpty ? nil : messages
        return placed.map(\.name)
    }
}
