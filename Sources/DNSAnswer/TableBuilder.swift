import DNSWire
import MCDNSModel

/// A name's compiled answers before they are packed into a shard.
struct PendingNode {
    var name: DomainName
    var zone: Int
    var types: [(RRType, RenderedBody)]
    var variants: [(requester: UInt16, qtype: RRType, body: RenderedBody)]
    /// A body of its own for every other type, or else `sharedFallback` (an index into the shared store).
    var fallback: RenderedBody?
    var sharedFallback: Int32
    var delegated: Bool
    var hasWildcardChild: Bool
}

/// Compiles zone contents into shards of wire-ready answers, and recompiles only what a change touches.
/// Runs off the query path; not thread-safe (its owner serialises calls).
struct TableBuilder {
    private(set) var zones: [ZoneContent]
    let options: ServingOptions
    /// Requesters known by cluster: index = position (the EDNS option value and subnets map to it).
    let requesters: [ClusterID]
    let subnets: [(network: IPNetwork, requester: Int)]
    let localOption: UInt16
    /// Per zone, a type no record has: resolving it gives the "any other type" answer. Live names only add
    /// A, AAAA, CNAME and SRV records, so this is fixed by the zone files.
    private let absentTypes: [RRType]
    /// Names from zone files whose answers may follow other names (CNAME chains, MX and SRV additional records):
    /// re-rendered on every update, since a live name they point at may have changed.
    private let staticDependents: Set<DomainName>

    private(set) var serial: UInt32 = 0
    private var shared = TemplateStore()
    /// `shared`, packed as the table serves it.
    private var sharedShard = Shard.empty
    private var nxTemplates: [Int32] = []
    private var nodataTemplates: [Int32] = []
    private var serviceNodataTemplates: [Int32] = []
    private var referralTemplates: [DomainName: Int32] = [:]
    /// The compiled shards are the only copy of the answers: an update re-renders the touched names and copies
    /// every other entry of their shards from the previous shard (no rendered bodies are kept beside them).
    private var shards = ShardDirectory(count: AnswerTable.shardCount)

    init(zones: [ZoneContent], options: ServingOptions, requesters: [ClusterID] = [],
         subnets: [(network: IPNetwork, requester: Int)] = [], localOption: UInt16 = 0) throws(CompileError) {
        // Deepest zone first: a name is served by the most specific zone that holds it.
        self.zones = zones.sorted { $0.origin.labelCount > $1.origin.labelCount }
        var seen = Set<DomainName>()
        for zone in self.zones where !seen.insert(zone.origin).inserted { throw .duplicateZone(zone.origin) }
        self.options = options
        self.requesters = requesters
        self.subnets = subnets.sorted { $0.network.prefixLength > $1.network.prefixLength }
        self.localOption = localOption
        self.absentTypes = self.zones.map(Self.absentType(in:))
        var dependents = Set<DomainName>()
        for zone in self.zones {
            for (name, rrsets) in zone.fileNodes {
                if rrsets[.cname] != nil || rrsets[.mx] != nil || rrsets[.srv] != nil || rrsets[.ns] != nil {
                    dependents.insert(name)
                }
            }
        }
        self.staticDependents = dependents
    }

    /// The lower-cased origin of each zone, by zone index: shards store names without it.
    var origins: [[UInt8]] { zones.map(\.origin.key) }

    var requesterIndex: [ClusterID: Int] {
        Dictionary(uniqueKeysWithValues: requesters.enumerated().map { ($1, $0) })
    }

    func zoneIndex(of name: DomainName) -> Int? { zones.firstIndex { name.isSubdomain(of: $0.origin) } }

    func resolve(_ name: DomainName, _ type: RRType, override: [RRType: [ResourceRecord]]? = nil) -> ResolvedAnswer {
        guard let index = zoneIndex(of: name) else {
            return ResolvedAnswer(resolution: .refused, rcode: .refused, authoritative: false)
        }
        return ZoneResolver(zone: zones[index], serial: serial).resolve(name, type, override: override)
    }

    // MARK: - Whole builds and changes

    /// Renders every name, one shard at a time (only that shard's rendered bodies are alive at once).
    /// Breaks one invariant of the first zone's store (tests only).
    mutating func damageForTesting(_ damage: NameStore.Damage) { zones[0].damageForTesting(damage) }

    mutating func buildAll(serial: UInt32) throws(CompileError) -> AnswerTable {
        self.serial = serial
        try renderShared()
        var byShard = Array(repeating: [(name: DomainName, zone: Int)](), count: AnswerTable.shardCount)
        for index in zones.indices {
            for name in zones[index].names { byShard[Self.shardIndex(of: name)].append((name, index)) }
        }
        var built: [Shard] = []
        built.reserveCapacity(AnswerTable.shardCount)
        let origins = self.origins
        for names in byShard {
            var packer = ShardPacker(capacity: names.count, origins: origins)
            for (name, index) in names {
                if let node = try render(name, zone: index) { packer.add(node) }
            }
            guard !packer.tooManyZones else { throw .tooManyZones(zones.count) }
            built.append(packer.finish())
        }
        shards = ShardDirectory(built)
        return table()
    }

    /// Applies edits to the zone contents, then re-renders the names they report touched (plus the names whose
    /// answers may follow others: the apex, and static names that point inside the zone) and rebuilds only the
    /// shards holding them: their other entries are copied from the previous shard as packed bytes. Nothing of
    /// the shards changes when a render throws.
    mutating func update(serial: UInt32, _ edit: (inout [ZoneContent]) -> Set<DomainName>) throws(CompileError) -> AnswerTable {
        self.serial = serial
        var touched = edit(&zones).union(staticDependents)
        for zone in zones { touched.insert(zone.origin) }
        try renderShared()
        var byShard: [Int: [DomainName]] = [:]
        for name in touched { byShard[Self.shardIndex(of: name), default: []].append(name) }
        var rebuilt: [(Int, Shard)] = []
        rebuilt.reserveCapacity(byShard.count)
        let origins = self.origins
        for (shard, names) in byShard {
            var fresh: [PendingNode] = []
            for name in names {
                if let index = zoneIndex(of: name), let node = try render(name, zone: index) { fresh.append(node) }
            }
            guard let packed = ShardPacker.rebuild(shards[shard], replacing: names, with: fresh, origins: origins) else {
                throw .tooManyZones(zones.count)
            }
            rebuilt.append((shard, packed))
        }
        shards.replace(rebuilt)
        return table()
    }

    private func table() -> AnswerTable {
        AnswerTable(serial: serial, options: options, zones: zones.map(\.origin), shards: shards, shared: sharedShard,
                    nxTemplates: nxTemplates, requesters: requesters.map { Array($0.rawValue.lowercased().utf8) },
                    subnets: subnets, localOption: localOption)
    }

    // MARK: - Rendering

    /// The answers many names share: per zone NXDOMAIN, NODATA (file names and known services), per cut the referral.
    /// Their order only depends on the zones and cuts, so shards built earlier keep pointing at the right ones.
    private mutating func renderShared() throws(CompileError) {
        shared = TemplateStore()
        nxTemplates = []
        nodataTemplates = []
        serviceNodataTemplates = []
        referralTemplates = [:]
        for (index, zone) in zones.enumerated() {
            let resolver = ZoneResolver(zone: zone, serial: serial)
            // A name no record can own: the shared answers never point at the question as an owner.
            let placeholder = (try? zone.origin.prepending("\u{0}")) ?? zone.origin
            var nx = ResolvedAnswer(resolution: .nxDomain, rcode: .nxDomain, authoritative: true)
            resolver.addNegative(to: &nx)
            nxTemplates.append(reference(shared.add(MessageRenderer.render(nx, qname: placeholder, fixedSuffix: zone.origin, serialFollowsTable: zone.followsTableSerial))))
            var nodata = ResolvedAnswer(resolution: .noData, rcode: .noError, authoritative: true)
            resolver.addNegative(to: &nodata)
            nodataTemplates.append(reference(shared.add(MessageRenderer.render(nodata, qname: placeholder,
                                                                              fixedSuffix: zone.origin,
                                                                              serialFollowsTable: zone.followsTableSerial))))
            var service = nodata
            if let ttl = zone.serviceNegativeTTL { service.authority[0].ttl = ttl }
            serviceNodataTemplates.append(reference(shared.add(MessageRenderer.render(service, qname: placeholder,
                                                                                     fixedSuffix: zone.origin,
                                                                                     serialFollowsTable: zone.followsTableSerial))))
            for cut in zone.cuts.sorted() {
                let below = (try? cut.prepending("\u{0}")) ?? cut
                let referral = MessageRenderer.render(resolver.resolve(below, absentTypes[index]), qname: below,
                                                      fixedSuffix: cut, serialFollowsTable: zone.followsTableSerial)
                // A delegation with more NS records and glue than a message holds (the negative answers hold one SOA).
                guard referral.bytes.count <= TemplateEntry.maxBodyLength else { throw .answerTooLarge(cut, .ns) }
                referralTemplates[cut] = reference(shared.add(referral))
            }
        }
        sharedShard = Shard.make(nodes: [], hashes: [], names: [], types: [], store: shared)
    }

    private func reference(_ index: Int32) -> Int32 { -(index + 1) }

    /// Compiles every answer of one name, or nil when the name does not exist (or belongs to a deeper zone).
    private func render(_ name: DomainName, zone index: Int) throws(CompileError) -> PendingNode? {
        let zone = zones[index]
        guard let rrsets = zone.rrsets(at: name), zoneIndex(of: name) == index else { return nil }
        let resolver = ZoneResolver(zone: zone, serial: serial)
        let wildcardChild = (try? name.prepending("*")).map { zone.contains($0) } ?? false
        var node = PendingNode(name: name, zone: index, types: [], variants: [], fallback: nil,
                               sharedFallback: zone.negativeTTL(at: name) != nil ? serviceNodataTemplates[index]
                                   : nodataTemplates[index],
                               delegated: false, hasWildcardChild: wildcardChild)
        if let cut = zone.cut(atOrAbove: name) {
            node.delegated = true
            node.sharedFallback = referralTemplates[cut]!
            if cut == name {
                let answer = MessageRenderer.render(resolver.resolve(name, .ds), qname: name, fixedSuffix: name,
                                                    serialFollowsTable: zone.followsTableSerial)
                node.types.append((.ds, answer))
            }
            return node
        }
        // A wildcard's answers are rendered once for every name it covers.
        let fixed = name.isWildcard ? name.parent ?? name : name
        // Only generated names rotate: a zone file's answers stay as written (the Knot differential test). A
        // weighted service's picks apply with `dns.rotate` off too: the service asked for them.
        let live = zone.isLive(name)
        let weights = live ? rrsets[.rotationWeights] : nil
        let rotate = (options.rotate && live) || weights != nil
        // `answers: N` of the generated name that owns the answer's addresses: this one (a requester's variant
        // carries its own), or the end of its CNAME chain (a zone or region name falling back to its parent).
        func limit(_ answer: ResolvedAnswer, _ override: [RRType: [ResourceRecord]]?) -> Int? {
            guard let owner = answer.answer.first(where: { $0.type == .a || $0.type == .aaaa })?.owner,
                  zone.isLive(owner),
                  let rdata = (owner == name ? override ?? rrsets : zone.rrsets(at: owner))?[.answerLimit]?.first?.rdata,
                  rdata.count == 2
            else { return nil }
            return Int(rdata[0]) << 8 | Int(rdata[1])
        }
        func render(_ type: RRType, _ override: [RRType: [ResourceRecord]]? = nil) throws(CompileError) -> RenderedBody {
            let answer = resolver.resolve(name, type, override: override)
            let body = MessageRenderer.render(answer, qname: name,
                                              fixedSuffix: fixed, serialFollowsTable: zone.followsTableSerial,
                                              rotate: rotate, weights: override == nil ? weights ?? [] : [],
                                              keep: limit(answer, override))
            guard body.bytes.count <= TemplateEntry.maxBodyLength else { throw .answerTooLarge(name, type) }
            return body
        }
        var types: [RRType]
        if rrsets[.cname] != nil {
            // A chain's answer depends on the type asked: one body per type along the chain, then the rest.
            types = chainTypes(from: name, in: zone).union([.cname, .any]).sorted()
            node.fallback = try render(absentTypes[index])
        } else if !rrsets.isEmpty {
            // A generated name's weighted picks and answer limit are no answers of their own (a zone file's
            // TYPE65534 and TYPE65533 are).
            types = rrsets.keys.filter { !(live && Self.carriesNoAnswer($0)) }.sorted() + [.any]
        } else {
            types = []
        }
        // A shard's node counts its types in a byte.
        guard types.count <= NodeEntry.maxTypes else {
            throw .tooManyTypes(name, types.count)
        }
        for type in types { node.types.append((type, try render(type))) }
        if let variants = zone.variants[name] {
            for (requester, override) in variants.sorted(by: { $0.key < $1.key }) {
                var variantTypes = Set(types).union(override.keys.filter { !Self.carriesNoAnswer($0) })
                    .union(override.isEmpty ? [] : [.any])
                if let target = override[.cname]?.first?.targetName {
                    // A CNAME answers every type with the chain: the types along the requester's chain, and one
                    // answer for all others (else they would get everyone's CNAME).
                    if target.isSubdomain(of: zone.origin) { variantTypes.formUnion(chainTypes(from: target, in: zone)) }
                    node.variants.append((UInt16(requester), VariantEntry.otherTypes,
                                          try render(absentTypes[index], override)))
                }
                for type in variantTypes.sorted() {
                    node.variants.append((UInt16(requester), type, try render(type, override)))
                }
            }
        }
        return node
    }

    /// The private types a generated name carries for the renderer (`RRType.rotationWeights`, `.answerLimit`).
    static func carriesNoAnswer(_ type: RRType) -> Bool { type == .rotationWeights || type == .answerLimit }

    /// The types found along a CNAME chain from `name` (each step's own types).
    private func chainTypes(from name: DomainName, in zone: ZoneContent) -> Set<RRType> {
        var types = Set<RRType>()
        var current = name
        var visited: Set<DomainName> = []
        let resolver = ZoneResolver(zone: zone, serial: serial)
        while visited.insert(current).inserted, visited.count <= ZoneResolver.maxChainLength {
            guard case .node(_, let rrsets) = resolver.step(current, qtype: .a) else { break }
            types.formUnion(rrsets.keys)
            guard let target = rrsets[.cname]?.first?.targetName, target.isSubdomain(of: zone.origin) else { break }
            current = target
        }
        return types
    }

    /// A type no record of the zone has: resolving it gives the "any other type" answer.
    static func absentType(in zone: ZoneContent) -> RRType {
        var candidate: UInt16 = 65_280  // private use (RFC 6895)
        while zone.hasRecords(ofType: RRType(candidate)) { candidate += 1 }
        return RRType(candidate)
    }

    // MARK: - Shards

    static func shardIndex(of name: DomainName) -> Int {
        AnswerTable.shard(of: NameHash.group(name.key))
    }
}
