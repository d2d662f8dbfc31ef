import DNSWire

/// Packs names and their compiled answers into a `Shard`: freshly rendered nodes, or entries copied as bytes
/// from a previous shard (an update re-renders only the names it touched and copies the rest, DESIGN §7).
struct ShardPacker {
    private var entries: [NodeEntry] = []
    private var hashes: [UInt32] = []
    private var names: [UInt8] = []
    private var types: [TypeEntry] = []
    private var variants: [VariantEntry] = []
    private var store = TemplateStore()
    /// The lower-cased origin of each zone, by the table's zone index: names are stored without it.
    private let origins: [[UInt8]]
    /// The origins the names added so far are stored without, by zone, in the order first seen: a node keeps
    /// its origin's index here.
    private var originsUsed: [(zone: UInt16, bytes: [UInt8])] = []
    /// The templates of the node being copied (`copy`), kept between nodes for its room.
    private var scratchReferences: [Int32] = []
    /// A name of a 257th zone came: the shard cannot index its origin (the compile refuses the table).
    private(set) var tooManyZones = false

    init(capacity: Int, origins: [[UInt8]]) {
        self.origins = origins
        entries.reserveCapacity(capacity)
        hashes.reserveCapacity(capacity)
    }

    /// The index of the origin entry for `zone` (made now if the shard has none yet).
    private mutating func originIndex(zone: UInt16, bytes: @autoclosure () -> [UInt8]) -> UInt8 {
        if let found = originsUsed.firstIndex(where: { $0.zone == zone }) { return UInt8(found) }
        guard originsUsed.count < OriginEntry.maxOrigins else {
            tooManyZones = true
            return 0
        }
        originsUsed.append((zone, bytes()))
        return UInt8(originsUsed.count - 1)
    }

    /// The origin index for `name` of `zone`, and the length of the origin it ends with (0 when the packer knows
    /// no origin for the zone: the name is stored whole).
    private mutating func use(zone: Int, for name: [UInt8]) -> (index: UInt8, length: Int) {
        let origin = zone < origins.count ? origins[zone] : []
        precondition(name.count >= origin.count && name[(name.count - origin.count)...].elementsEqual(origin),
                     "a name ends with its zone's origin")
        return (originIndex(zone: UInt16(zone), bytes: origin), origin.count)
    }

    /// Adds a freshly rendered node. Answers of the node that are byte for byte the same share one template:
    /// ANY is the A answer again at most names (RFC 8482 minimal ANY), and a requester's variant repeats every
    /// type its override leaves alone. The node's templates and type entries are its own: another node with the
    /// same answers gets templates of its own (`Shard.validate` checks that no two nodes share one).
    ///
    /// Only a wildcard's answers keep their relocations: they are written behind questions of any length. Every
    /// other node's answers are only ever written behind its own name (an exact match, so a question of the
    /// same length, and `write` relocates only when the length differs): names that reach a node as their
    /// closest encloser get the table's shared answers (NXDOMAIN, the referral), never the node's own.
    ///
    /// An answer whose bytes are the start of another's (ANY where the name has one type: that answer without its
    /// additional section) shares that answer's bytes: the longest answers are stored first for that.
    mutating func add(_ node: PendingNode) {
        var added: [(body: RenderedBody, template: Int32)] = []
        let relocatable = node.name.isWildcard
        func template(_ body: RenderedBody) -> Int32 {
            if let same = added.first(where: { $0.body == body }) { return same.template }
            var stored = body
            if !relocatable { stored.relocations = [] }
            let host = added.first { $0.body.bytes.count > body.bytes.count && $0.body.bytes.starts(with: body.bytes) }
            let index = store.add(stored, sharingBytesOf: host?.template)
            added.append((body, index))
            return index
        }
        let bodies = node.types.map(\.1) + node.variants.map(\.body) + (node.fallback.map { [$0] } ?? [])
        for body in bodies.sorted(by: { $0.bytes.count > $1.bytes.count }) { _ = template(body) }
        let typesStart = types.count
        for (qtype, body) in node.types { types.append(TypeEntry(qtype: qtype, template: template(body))) }
        // ANY answered as the first type is: its entry goes, a flag says so.
        var anyIsFirstType = false
        if let any = types[typesStart...].firstIndex(where: { $0.qtype == .any }), any > typesStart,
           types[any].template == types[typesStart].template {
            types.remove(at: any)
            anyIsFirstType = true
        }
        precondition(types.count - typesStart <= NodeEntry.maxTypes, "the compile refuses names with over 255 types")
        let typesCount = types.count - typesStart
        let index = UInt32(entries.count)
        for variant in node.variants {
            variants.append(VariantEntry(node: index, requester: variant.requester, qtype: variant.qtype,
                                         template: template(variant.body)))
        }
        let fallback = node.fallback.map { template($0) } ?? node.sharedFallback
        let key = node.name.key
        let (origin, originLength) = use(zone: node.zone, for: key)
        let stored = key.count - originLength
        entries.append(NodeEntry(
            nameStart: UInt32(names.count), nameLength: UInt8(stored), origin: origin,
            typesStart: UInt32(typesStart), typesCount: UInt8(typesCount),
            fallback: fallback, delegated: node.delegated, hasWildcardChild: node.hasWildcardChild,
            hasVariants: !node.variants.isEmpty, anyIsFirstType: anyIsFirstType))
        names += key[..<stored]
        hashes.append(NameHash.hash(key))
    }

    /// Copies node `index` of `old` with its answers. References into the table's shared store (below zero)
    /// stay as they are: the shared store keeps its order across updates.
    mutating func copy(_ index: Int, of old: Shard, hash: UInt32) {
        var entry = old.node(index)
        // A template several answers of the node share is copied once and stays shared, and bytes two templates
        // share (one body the start of the other's) stay shared: the node's templates are copied longest first.
        // A template belongs to one node (`Shard.validate`), so what this node copied is all there is to look in.
        var copied: [(old: Int32, new: Int32, start: UInt32, length: UInt16)] = []
        func copyTemplate(_ reference: Int32) -> Int32 {
            guard reference >= 0 else { return reference }
            if let same = copied.first(where: { $0.old == reference }) { return same.new }
            let found = old.template(Int(reference)).entry
            let host = copied.first { $0.start == found.bodyStart && $0.length >= found.bodyLength }
            let fresh = store.copy(Int(reference), from: old, sharingBytesOf: host?.new)
            // Kept for this node's shorter answers, whose bytes may be the start of this one's.
            copied.append((reference, fresh, found.bodyStart, found.bodyLength))
            return fresh
        }
        // The packer's scratch list, emptied but kept: a list per copied node was most of a copy's allocations.
        var references = scratchReferences
        scratchReferences = []
        references.removeAll(keepingCapacity: true)
        for i in Int(entry.typesStart)..<(Int(entry.typesStart) + Int(entry.typesCount)) {
            let template = old.type(i).template
            if template >= 0 { references.append(template) }
        }
        let oldVariants = old.variantRange(node: index)
        for i in oldVariants where old.variant(at: i).template >= 0 { references.append(old.variant(at: i).template) }
        if entry.fallback >= 0 { references.append(entry.fallback) }
        references.sort { old.template(Int($0)).entry.bodyLength > old.template(Int($1)).entry.bodyLength }
        for reference in references { _ = copyTemplate(reference) }
        scratchReferences = references
        names.append(contentsOf: old.name(of: entry))
        entry.nameStart = UInt32(names.count - Int(entry.nameLength))
        entry.origin = originIndex(zone: old.originEntry(of: entry).zone, bytes: Array(old.origin(of: entry)))
        let typesStart = Int(entry.typesStart)
        entry.typesStart = UInt32(types.count)
        for i in typesStart..<(typesStart + Int(entry.typesCount)) {
            let type = old.type(i)
            types.append(TypeEntry(qtype: type.qtype, template: copyTemplate(type.template)))
        }
        let newIndex = UInt32(entries.count)
        for i in oldVariants {
            let variant = old.variant(at: i)
            variants.append(VariantEntry(node: newIndex, requester: variant.requester, qtype: variant.qtype,
                                         template: copyTemplate(variant.template)))
        }
        entry.fallback = copyTemplate(entry.fallback)
        entries.append(entry)
        hashes.append(hash)
    }

    /// The packed shard: one allocation of exactly its size (the packer's growing arrays are dropped).
    func finish() -> Shard {
        guard !entries.isEmpty else { return .empty }
        var names = self.names
        var originEntries: [OriginEntry] = []
        for (zone, bytes) in originsUsed {
            // An origin of length 0 (a zone the packer knows no origin for) starts anywhere: its bytes are none.
            originEntries.append(OriginEntry(zone: zone, length: UInt16(bytes.count), start: UInt32(names.count)))
            names += bytes
        }
        return Shard.make(nodes: entries, hashes: hashes, names: names, types: types, variants: variants,
                          store: store, origins: originEntries)
    }

    /// `old` with the nodes named in `replaced` dropped and `fresh` added (a replaced name that still exists
    /// comes back in `fresh`); nil when the shard would hold names of more zones than it can index.
    static func rebuild(_ old: Shard, replacing replaced: [DomainName], with fresh: [PendingNode],
                        origins: [[UInt8]]) -> Shard? {
        var replacedHashes = Set<UInt32>()
        var replacedKeys = Set<[UInt8]>()
        for name in replaced {
            replacedHashes.insert(NameHash.hash(name.key))
            replacedKeys.insert(name.key)
        }
        var packer = ShardPacker(capacity: old.nodeCount + fresh.count, origins: origins)
        let oldHashes = old.nodeHashes()
        for index in 0..<old.nodeCount {
            if replacedHashes.contains(oldHashes[index]),
               replacedKeys.contains(old.fullName(of: old.node(index)))
            {
                continue
            }
            packer.copy(index, of: old, hash: oldHashes[index])
        }
        for node in fresh { packer.add(node) }
        return packer.tooManyZones ? nil : packer.finish()
    }
}
