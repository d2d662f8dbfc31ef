import DNSWire

/// Compiles zones into shards of wire-ready answers. Runs off the query path.
struct TableBuilder {
    let zones: [ZoneContent]
    let serial: UInt32
    let options: ServingOptions

    init(zones: [ZoneContent], serial: UInt32, options: ServingOptions) {
        // Deepest zone first: a name is served by the most specific zone that holds it.
        self.zones = zones.sorted { $0.origin.labelCount > $1.origin.labelCount }
        self.serial = serial
        self.options = options
    }

    /// A node before it is placed in a shard.
    struct PendingNode {
        var name: DomainName
        var zone: Int
        var types: [(UInt16, RenderedBody)]
        /// Either a body of its own or a shared template (index into the shared store, as a negative reference).
        var fallback: RenderedBody?
        var sharedFallback: Int32
        var delegated: Bool
        var hasWildcardChild: Bool
    }

    func build() throws(CompileError) -> AnswerTable {
        var seen = Set<DomainName>()
        for zone in zones where !seen.insert(zone.origin).inserted { throw .duplicateZone(zone.origin) }

        var shared = TemplateStore()
        var nxTemplates: [Int32] = []
        var pending: [PendingNode] = []

        for (zoneIndex, zone) in zones.enumerated() {
            let resolver = ZoneResolver(zone: zone, serial: serial)
            // A name no record can own: renders shared answers whose owner is never the query name.
            let placeholder = (try? zone.origin.prepending("\u{0}")) ?? zone.origin
            let absent = Self.absentType(in: zone)

            var nx = ResolvedAnswer(resolution: .nxDomain, rcode: 3, authoritative: true)
            resolver.addNegative(to: &nx)
            nxTemplates.append(reference(shared.add(MessageRenderer.render(nx, qname: placeholder, fixedSuffix: zone.origin))))
            var nodata = ResolvedAnswer(resolution: .noData, rcode: 0, authoritative: true)
            resolver.addNegative(to: &nodata)
            let nodataReference = reference(shared.add(MessageRenderer.render(nodata, qname: placeholder,
                                                                              fixedSuffix: zone.origin)))
            var referrals: [DomainName: Int32] = [:]
            for cut in zone.cuts {
                let below = (try? cut.prepending("\u{0}")) ?? cut
                let referral = resolver.resolve(below, absent)
                referrals[cut] = reference(shared.add(MessageRenderer.render(referral, qname: below, fixedSuffix: cut)))
            }
            let typesInZone = Set(zone.nodes.values.flatMap(\.keys))

            for (name, rrsets) in zone.nodes {
                // Names inside a deeper served zone belong to that zone.
                if zones[..<zoneIndex].contains(where: { name.isSubdomain(of: $0.origin) }) { continue }
                let wildcardChild = (try? name.prepending("*")).map { zone.nodes[$0] != nil } ?? false
                var node = PendingNode(name: name, zone: zoneIndex, types: [], fallback: nil,
                                       sharedFallback: nodataReference, delegated: false,
                                       hasWildcardChild: wildcardChild)
                if let cut = zone.cut(atOrAbove: name) {
                    node.delegated = true
                    node.sharedFallback = referrals[cut]!
                    if cut == name {
                        let ds = resolver.resolve(name, .ds)
                        node.types.append((RRType.ds.rawValue, MessageRenderer.render(ds, qname: name, fixedSuffix: name)))
                    }
                    pending.append(node)
                    continue
                }
                // A wildcard's answers are rendered once for every name it covers.
                let fixed = name.isWildcard ? name.parent ?? name : name
                func render(_ type: RRType) -> RenderedBody {
                    MessageRenderer.render(resolver.resolve(name, type), qname: name, fixedSuffix: fixed)
                }
                if rrsets[.cname] != nil {
                    // A chain's answer depends on the type asked: one body per type the zone holds, then the rest.
                    for type in typesInZone.union([.cname, .any]).sorted() {
                        node.types.append((type.rawValue, render(type)))
                    }
                    node.fallback = render(absent)
                } else if !rrsets.isEmpty {
                    for type in rrsets.keys.sorted() { node.types.append((type.rawValue, render(type))) }
                    node.types.append((RRType.any.rawValue, render(.any)))
                }
                pending.append(node)
            }
        }
        for node in pending {
            for (_, body) in node.types where body.bytes.count > 65535 {
                throw .answerTooLarge(node.name, RRType(node.types[0].0))
            }
        }
        return AnswerTable(serial: serial, options: options, zones: zones,
                           shards: Self.shards(from: pending), shared: shared, nxTemplates: nxTemplates)
    }

    private func reference(_ index: Int32) -> Int32 { -(index + 1) }

    /// A type no record of the zone has: resolving it gives the "any other type" answer.
    static func absentType(in zone: ZoneContent) -> RRType {
        let present = Set(zone.nodes.values.flatMap(\.keys))
        var candidate: UInt16 = 65_280  // private use (RFC 6895)
        while present.contains(RRType(candidate)) { candidate += 1 }
        return RRType(candidate)
    }

    static func shards(from pending: [PendingNode]) -> [Shard] {
        var buckets = Array(repeating: [PendingNode](), count: AnswerTable.shardCount)
        for node in pending {
            buckets[Int(NameHash.hash(node.name.key) >> 24) & (AnswerTable.shardCount - 1)].append(node)
        }
        return buckets.map(shard(from:))
    }

    static func shard(from nodes: [PendingNode]) -> Shard {
        guard !nodes.isEmpty else { return .empty }
        var store = TemplateStore()
        var entries: [NodeEntry] = []
        var hashes: [UInt32] = []
        var names: [UInt8] = []
        var types: [TypeEntry] = []
        for node in nodes {
            let typesStart = types.count
            for (qtype, body) in node.types { types.append(TypeEntry(qtype: qtype, template: store.add(body))) }
            let fallback = node.fallback.map { store.add($0) } ?? node.sharedFallback
            entries.append(NodeEntry(
                nameStart: UInt32(names.count), nameLength: UInt16(node.name.key.count), zone: UInt16(node.zone),
                typesStart: UInt32(typesStart), typesCount: UInt16(types.count - typesStart), fallback: fallback,
                delegated: node.delegated, hasWildcardChild: node.hasWildcardChild))
            names += node.name.key
            hashes.append(NameHash.hash(node.name.key))
        }
        return Shard(nodes: entries, hashes: hashes, names: names, types: types, store: store)
    }
}
