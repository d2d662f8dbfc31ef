public import DNSWire
public import MCDNSModel

/// The names each service owns.
public typealias ServiceNames = [ServiceKey: [DomainName]]

/// Static zones plus live records, compiled incrementally: a change to one service recompiles only that service's
/// names (DESIGN §7). Not thread-safe: its owner (RecordStore) serialises calls; the tables it returns are immutable.
public final class LiveTable {
    public let naming: NamingConfiguration
    public let options: ServingOptions
    /// The records placed, by service: kept with the services' numbers (`ServiceIDs`), one record per number.
    /// The DNS half's copy of the merged records, needed because a service's names are made again from its record
    /// when it or a member changes, and the store persists and explains exactly what was compiled.
    public var records: LiveRecords { LiveRecords(ids: serviceIDs) }
    public private(set) var clusters: [ClusterID: ClusterInfo] = [:]
    /// Problems of the last compile of each service (names that could not be made, names taken by another).
    public private(set) var problems: [ServiceKey: [String]] = [:]

    private let staticZones: [ZoneContent]
    /// Who owns each live name is kept in the zone contents as a number, not a key: the number of each placed
    /// service and the services by number. The names each one owns are
    /// made again from its record when needed (`owned`).
    private var serviceIDs = ServiceIDs()
    private var builder: TableBuilder
    /// The services with a name whose CNAME leads into one of our zones to a name the service does not make (an
    /// ExternalName or load balancer hostname naming another service): their answers carry the target's records
    /// (in-zone chasing), so every update renders their names again, as the builder does for static names that
    /// point inside a zone. Without it a target's change or removal left the chased records in their answers.
    private var chasing = Set<ServiceKey>()
    /// Whether `rebuild` ran: until then the builder holds no shards.
    private var built = false
    /// Set by the owner that keeps a transfer journal: `apply` then notes what each batch changed per zone.
    public var recordsDifferences = false
    /// What the last `apply` changed, by zone origin (records removed and added); nil after a rebuild or when
    /// `recordsDifferences` is off: the differences are not known.
    public private(set) var lastDifferences: [DomainName: (removed: [ResourceRecord], added: [ResourceRecord])]?

    public convenience init(zones: [Zone], naming: NamingConfiguration, options: ServingOptions = ServingOptions())
        throws(CompileError)
    {
        try self.init(zones: zones, naming: naming, options: options, chunkSize: 1 << 20)
    }

    /// `chunkSize`: the name stores' arena chunk (tests use small ones, so that compaction runs often).
    init(zones: [Zone], naming: NamingConfiguration, options: ServingOptions = ServingOptions(), chunkSize: Int)
        throws(CompileError)
    {
        var contents: [ZoneContent] = []
        for zone in zones { contents.append(try ZoneContent(zone: zone, chunkSize: chunkSize)) }
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

    /// Every service's names, made again from the references (O(all names): for tests and tools).
    public var namesByService: ServiceNames {
        Dictionary(uniqueKeysWithValues: serviceIDs.keys.map { ($0, names(of: $0)) })
    }

    /// The names `key` owns now.
    public func names(of key: ServiceKey) -> [DomainName] {
        guard let id = serviceIDs.id(of: key), let record = serviceIDs.record(of: id) else { return [] }
        let zones = builder.zones
        return Self.owned(record, id, RecordNames(naming: naming, clusters: clusters), zones).compactMap { z, name in
            zones[z].id(of: name).flatMap { zones[z].liveName($0)?.name }
        }
    }

    /// The names of `record` that service `id` holds in `zones`, with their zone's index.
    ///
    /// Names are a pure function of the record, the members and the naming, so the names a service placed are
    /// made again from its record and the members it was placed with, not kept. A made name another service or a
    /// zone file holds is not the service's, which the owner number says.
    private static func owned(_ record: ServiceDNSRecord, _ id: UInt32, _ names: RecordNames,
                              _ zones: [ZoneContent]) -> [(zone: Int, name: DomainName)] {
        names.names(for: record).names.compactMap { live in
            guard let z = zones.firstIndex(where: { live.name.isSubdomain(of: $0.origin) }),
                  zones[z].owner(of: live.name) == id
            else { return nil }
            return (z, live.name)
        }
    }

    /// The service that owns the live name `name`, if one does.
    public func owner(of name: DomainName) -> ServiceKey? {
        guard let zone = builder.zoneIndex(of: name), let id = builder.zones[zone].owner(of: name) else { return nil }
        return serviceIDs.key(of: id)
    }

    /// Resolves in record form against the current contents (for `explain` and tools; queries use compiled bytes).
    public func resolve(_ name: DomainName, _ type: RRType) -> ResolvedAnswer {
        builder.resolve(name, type)
    }

    /// As `resolve`, with the RRsets of `name` replaced by a requester's variant.
    func resolve(_ name: DomainName, _ type: RRType, override: [RRType: [ResourceRecord]]?) -> ResolvedAnswer {
        builder.resolve(name, type, override: override)
    }

    /// The zones as the last table was compiled from them, with that table's serial: what a zone transfer sends.
    /// Values (copy on write): holding them while the next batch edits the builder copies the edited stores once.
    public var transferZones: (serial: UInt32, zones: [ZoneContent]) { (builder.serial, builder.zones) }

    /// The origins of the served zones, deepest first.
    public var staticZoneOrigins: [DomainName] {
        staticZones.map(\.origin).sorted { $0.labelCount > $1.labelCount }
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
        // Numbers and problems are made anew beside the new builder and kept only when it built: the old
        // builder's zones hold the old numbers.
        let placing = serviceIDs.records.sorted { $0.key < $1.key }
        var numbers = ServiceIDs()
        var found: [ServiceKey: [String]] = [:]
        var chasers = Set<ServiceKey>()
        let names = RecordNames(naming: naming, clusters: clusters)
        _ = try fresh.update(serial: serial) { zones in
            for record in placing { _ = Self.place(record, names, &zones, index, &numbers, &found, &chasers) }
            return []
        }
        let table = try fresh.buildAll(serial: serial)
        lastDifferences = nil
        builder = fresh
        built = true
        serviceIDs = numbers
        problems = found
        chasing = chasers
        checkInDebug(table)
        return table
    }

    /// Applies one batch of changes and returns the new table. On a throw nothing changed.
    ///
    /// A member list change recompiles everything only when a member came, went or moved (requester indexes
    /// and every requester's nearest-first order depend on that). A change of link states alone (a member synced,
    /// went stale or offline) recompiles just the services that member serves: at 100,000 services, rebuilding
    /// the whole table each time one of twenty members finished its first sync was most of the start time.
    public func apply(_ changes: RecordChanges, serial: UInt32) throws(CompileError) -> AnswerTable {
        let savedClusters = clusters
        var relinked: [ServiceKey] = []
        // A table never built (one a reload carries the records into) has no shards an update could copy from:
        // it is built whole, as for a member list change.
        if let list = changes.clusters ?? (built ? nil : Array(clusters.values)) {
            let updated = Dictionary(list.map { ($0.id, $0) }, uniquingKeysWith: { _, last in last })
            if updated != clusters || !built {
                let sameMembers = built && updated.count == clusters.count
                    && updated.allSatisfy { id, info in clusters[id]?.locality == info.locality }
                guard sameMembers else {
                    let saved = (serviceIDs, clusters)
                    for key in changes.removed { serviceIDs.release(key) }
                    for record in changes.upserted { _ = serviceIDs.assign(record) }
                    clusters = updated
                    do {
                        return try rebuild(serial: serial)
                    } catch {
                        (serviceIDs, clusters) = saved
                        throw error
                    }
                }
                let changedLinks = Set(updated.keys.filter { updated[$0] != clusters[$0] })
                clusters = updated
                relinked = serviceIDs.records
                    .filter { record in record.status.dns.contains { changedLinks.contains($0.cluster) } }
                    .map(\.key)
            }
        }
        let index = builder.requesterIndex
        let names = RecordNames(naming: naming, clusters: clusters)
        // Edited in place: copying the builder or these maps per batch would cost O(all names). Should the compile
        // throw, the records and members go back to what they were and everything is rebuilt from them, as the
        // old table was.
        var saved: [ServiceKey: ServiceDNSRecord?] = [:]
        for key in changes.removed + changes.upserted.map(\.key) + relinked where saved[key] == nil {
            saved[key] = .some(serviceIDs.id(of: key).flatMap { serviceIDs.record(of: $0) })
        }
        // What the services being taken out placed was made with the members as they were before this batch.
        let previousNames = RecordNames(naming: naming, clusters: savedClusters)
        var placing = changes.upserted
        let savedChasing = chasing
        let upsertedKeys = Set(changes.upserted.map(\.key))
        let removedKeys = Set(changes.removed)
        for key in relinked where !upsertedKeys.contains(key) && !removedKeys.contains(key) {
            if let record = saved[key] ?? nil { placing.append(record) }
        }
        // The names whose RRsets this batch may change: those the services leaving placed and those the services
        // being placed make. Their RRsets before and after are the journal's step (DESIGN §9).
        var before: [DomainName: (zone: Int, rrsets: [RRType: [ResourceRecord]])] = [:]
        if recordsDifferences {
            let zones = builder.zones
            for key in saved.keys {
                guard let id = serviceIDs.id(of: key), let record = serviceIDs.record(of: id) else { continue }
                for (z, name) in Self.owned(record, id, previousNames, zones) where before[name] == nil {
                    before[name] = (z, zones[z].rrsets(at: name) ?? [:])
                }
            }
            for record in placing {
                for live in names.names(for: record).names where before[live.name] == nil {
                    guard let z = zones.firstIndex(where: { live.name.isSubdomain(of: $0.origin) }) else { continue }
                    before[live.name] = (z, zones[z].rrsets(at: live.name) ?? [:])
                }
            }
        }
        do throws(CompileError) {
            let table = try builder.update(serial: serial) { zones in
                var touched = Set<DomainName>()
                for key in saved.keys {
                    if let id = serviceIDs.id(of: key), let record = serviceIDs.record(of: id) {
                        for (z, old) in Self.owned(record, id, previousNames, zones) {
                            // A name made twice (two live names at one owner) is gone the second time.
                            guard zones[z].owner(of: old) == id else { continue }
                            touched.insert(old)
                            touched.formUnion(zones[z].removeLive(old))
                        }
                    }
                    serviceIDs.release(key)
                    problems[key] = nil
                    chasing.remove(key)
                }
                for record in placing {
                    touched.formUnion(Self.place(record, names, &zones, index, &serviceIDs, &problems, &chasing))
                }
                for key in chasing {
                    guard let id = serviceIDs.id(of: key), let record = serviceIDs.record(of: id) else { continue }
                    touched.formUnion(Self.owned(record, id, names, zones).map(\.name))
                }
                return touched
            }
            lastDifferences = recordsDifferences ? differences(before) : nil
            checkInDebug(table)
            return table
        } catch {
            for (key, record) in saved {
                serviceIDs.release(key)
                if let record { _ = serviceIDs.assign(record) }
            }
            chasing = savedChasing
            clusters = savedClusters
            _ = try? rebuild(serial: serial)
            throw error
        }
    }

    /// The records removed and added at each name of `before`, by zone origin, against the zones now.
    private func differences(_ before: [DomainName: (zone: Int, rrsets: [RRType: [ResourceRecord]])])
        -> [DomainName: (removed: [ResourceRecord], added: [ResourceRecord])]
    {
        var result: [DomainName: (removed: [ResourceRecord], added: [ResourceRecord])] = [:]
        let zones = builder.zones
        for (name, old) in before {
            let new = zones[old.zone].rrsets(at: name) ?? [:]
            let oldRecords = Set(old.rrsets.values.joined()), newRecords = Set(new.values.joined())
            guard oldRecords != newRecords else { continue }
            let origin = zones[old.zone].origin
            var entry = result[origin] ?? ([], [])
            // As in a full transfer (`ZoneContent.transferRecords`), a live name's weighted picks and answer limit
            // are not the zone's data: they change with it but are never sent.
            let served = { (type: RRType) in !TableBuilder.carriesNoAnswer(type) }
            entry.removed += old.rrsets.keys.sorted().filter(served).flatMap { old.rrsets[$0]! }
                .filter { !newRecords.contains($0) }
            entry.added += new.keys.sorted().filter(served).flatMap { new[$0]! }.filter { !oldRecords.contains($0) }
            result[origin] = entry
        }
        return result
    }

    // MARK: - Checking

    /// What must hold between batches; returns each violation found (none when the table is sound): every zone's
    /// own invariants (`ZoneContent.validate()`); the service numbering is one to one (each number's record
    /// carries the key that maps to that number, the free numbers are exactly the empty places); and every live
    /// name's owner number is a held service that makes that name from its record, so no name outlives its
    /// service or passes to the next service given the same number.
    public func validate() -> [String] {
        var problems = builder.zones.flatMap { $0.validate() }
        problems += serviceIDs.validate()
        guard problems.isEmpty else { return problems }
        let names = RecordNames(naming: naming, clusters: clusters)
        let zones = builder.zones
        var made: [UInt32: Set<DomainName>] = [:]
        for key in serviceIDs.keys {
            guard let id = serviceIDs.id(of: key), let record = serviceIDs.record(of: id) else { continue }
            made[id] = Set(names.names(for: record).names.map(\.name))
        }
        for zone in zones {
            for name in zone.names {
                guard let owner = zone.owner(of: name) else { continue }
                guard let expected = made[owner] else {
                    problems.append("live name \(name) is owned by service number \(owner), which is not held")
                    continue
                }
                if !expected.contains(name) {
                    problems.append("live name \(name) is owned by \(serviceIDs.key(of: owner).map { "\($0)" } ?? "?"), "
                        + "which does not make it")
                }
            }
        }
        return problems
    }

    /// Breaks one invariant of the first zone's store (tests only): `validate()` must then report it.
    func damageForTesting(_ damage: NameStore.Damage) {
        builder.damageForTesting(damage)
    }

    /// Gives a service another's number (tests only): `validate()` must then report it.
    func damageServiceNumbersForTesting() { serviceIDs.damageForTesting() }

    /// Debug builds check every invariant after each compile (a test that breaks one stops there, with the
    /// violations); release builds do not pay for it.
    private func checkInDebug(_ table: AnswerTable) {
        #if DEBUG
            let problems = validate() + table.validate()
            assert(problems.isEmpty, "the live table broke its invariants: \(problems.joined(separator: "; "))")
        #endif
    }

    private static func place(_ record: ServiceDNSRecord, _ names: RecordNames, _ zones: inout [ZoneContent],
                              _ index: [ClusterID: Int], _ ids: inout ServiceIDs,
                              _ problems: inout [ServiceKey: [String]],
                              _ chasing: inout Set<ServiceKey>) -> [DomainName] {
        let (made, trouble) = names.names(for: record)
        let own = Set(made.map(\.name))
        let leadsElsewhere = made.contains { live in
            ([live.rrsets] + Array(live.variants.values)).contains { rrsets in
                (rrsets[.cname] ?? []).contains { cname in
                    guard let target = cname.targetName, !own.contains(target) else { return false }
                    return zones.contains { target.isSubdomain(of: $0.origin) }
                }
            }
        }
        if leadsElsewhere { chasing.insert(record.key) }
        // The names whose answers must be (re)compiled: the live names, and empty non-terminals that appeared.
        var changed: [DomainName] = []
        var messages = trouble.map(\.message)
        let id = ids.assign(record)
        for live in made {
            guard let z = zones.firstIndex(where: { live.name.isSubdomain(of: $0.origin) }) else { continue }
            if let owner = zones[z].owner(of: live.name), owner != id {
                messages.append("\(live.name) is already served for \(ids.key(of: owner).map(String.init(describing:)) ?? "another service")")
                continue
            }
            guard let created = zones[z].add(live, requesterIndex: index, owner: id) else {
                messages.append("\(live.name) is defined in the zone file of \(zones[z].origin); the file wins")
                continue
            }
            changed.append(live.name)
            changed += created
        }
        problems[record.key] = messages.isEmpty ? nil : messages
        return changed
    }
}

/// Numbers for services, so the zone contents can say who owns a live name in four bytes. A number is freed when
/// its service is taken out and given to the next new one.
struct ServiceIDs: Sendable {
    private var byKey: [ServiceKey: UInt32] = [:]
    /// The record of service number n at index n - 1 (nil when free); its key is the service's.
    private var services: [ServiceDNSRecord?] = []
    private var free: [UInt32] = []

    func id(of key: ServiceKey) -> UInt32? { byKey[key] }

    var keys: Dictionary<ServiceKey, UInt32>.Keys { byKey.keys }

    var count: Int { byKey.count }

    func key(of id: UInt32) -> ServiceKey? { record(of: id)?.key }

    func record(of id: UInt32) -> ServiceDNSRecord? {
        id >= 1 && Int(id) <= services.count ? services[Int(id) - 1] : nil
    }

    /// Every record held, in no particular order.
    var records: [ServiceDNSRecord] { services.compactMap { $0 } }

    /// The number of the record's service, given now if it has none; the record replaces the one held.
    mutating func assign(_ record: ServiceDNSRecord) -> UInt32 {
        if let id = byKey[record.key] {
            services[Int(id) - 1] = record
            return id
        }
        let id: UInt32
        if let reused = free.popLast() {
            id = reused
            services[Int(id) - 1] = record
        } else {
            services.append(record)
            id = UInt32(services.count)
        }
        byKey[record.key] = id
        return id
    }

    /// The numbering is one to one: see `LiveTable.validate()`.
    func validate() -> [String] {
        var problems: [String] = []
        for (key, id) in byKey where record(of: id)?.key != key {
            problems.append("service \(key) has number \(id), whose record is \(record(of: id).map { "\($0.key)" } ?? "empty")")
        }
        let held = services.count { $0 != nil }
        if held != byKey.count { problems.append("\(held) numbered records for \(byKey.count) keys") }
        if Set(free).count != free.count { problems.append("a free service number is listed twice") }
        let empty = Set(services.indices.filter { services[$0] == nil }.map { UInt32($0 + 1) })
        if Set(free) != empty { problems.append("the free service numbers are not the empty places") }
        return problems
    }

    /// Gives `key` the number of another service (tests only): `validate()` must then report it.
    mutating func damageForTesting() {
        guard let (key, id) = byKey.first else { return }
        byKey[key] = id == 1 ? UInt32(services.count + 1) : 1
    }

    mutating func release(_ key: ServiceKey) {
        guard let id = byKey.removeValue(forKey: key) else { return }
        services[Int(id) - 1] = nil
        free.append(id)
    }
}

/// The records a live table holds, by service: a view of its numbered services (reading it copies nothing).
public struct LiveRecords: Sendable {
    let ids: ServiceIDs

    public var count: Int { ids.count }
    public var isEmpty: Bool { ids.count == 0 }
    public var keys: Dictionary<ServiceKey, UInt32>.Keys { ids.keys }
    /// Every record, in no particular order.
    public var values: [ServiceDNSRecord] { ids.records }

    public subscript(key: ServiceKey) -> ServiceDNSRecord? { ids.id(of: key).flatMap { ids.record(of: $0) } }

    /// The records as a dictionary (made on each call: O(records)).
    public var dictionary: [ServiceKey: ServiceDNSRecord] {
        Dictionary(uniqueKeysWithValues: ids.records.map { ($0.key, $0) })
    }
}
