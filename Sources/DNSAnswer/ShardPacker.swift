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

    init(capacity: Int) {
        entries.reserveCapacity(capacity)
        hashes.reserveCapacity(capacity)
    }

    /// Adds a freshly rendered node.
    mutating func add(_ node: PendingNode) {
        let typesStart = types.count
        for (qtype, body) in node.types { types.append(TypeEntry(qtype: qtype, template: store.add(body))) }
        let variantsStart = variants.count
        for variant in node.variants {
            variants.append(VariantEntry(requester: variant.requester, qtype: variant.qtype,
                                         template: store.add(variant.body)))
        }
        let fallback = node.fallback.map { store.add($0) } ?? node.sharedFallback
        entries.append(NodeEntry(
            nameStart: UInt32(names.count), nameLength: UInt16(node.name.key.count), zone: UInt16(node.zone),
            typesStart: UInt32(typesStart), typesCount: UInt16(types.count - typesStart),
            variantsStart: UInt32(variantsStart), variantsCount: UInt16(variants.count - variantsStart),
            fallback: fallback, delegated: node.delegated, hasWildcardChild: node.hasWildcardChild))
        names += node.name.key
        hashes.append(NameHash.hash(node.name.key))
    }

    /// Copies node `index` of `old` with its answers. References into the table's shared store (below zero)
    /// stay as they are: the shared store keeps its order across updates.
    mutating func copy(_ index: Int, of old: Shard) {
        var entry = old.nodes[index]
        let nameStart = Int(entry.nameStart)
        entry.nameStart = UInt32(names.count)
        names.append(contentsOf: old.names[nameStart..<(nameStart + Int(entry.nameLength))])
        let typesStart = Int(entry.typesStart)
        entry.typesStart = UInt32(types.count)
        for type in old.types[typesStart..<(typesStart + Int(entry.typesCount))] {
            types.append(TypeEntry(qtype: type.qtype, template: copyTemplate(type.template, from: old)))
        }
        let variantsStart = Int(entry.variantsStart)
        entry.variantsStart = UInt32(variants.count)
        for variant in old.variants[variantsStart..<(variantsStart + Int(entry.variantsCount))] {
            variants.append(VariantEntry(requester: variant.requester, qtype: variant.qtype,
                                         template: copyTemplate(variant.template, from: old)))
        }
        entry.fallback = copyTemplate(entry.fallback, from: old)
        entries.append(entry)
        hashes.append(old.hashes[index])
    }

    private mutating func copyTemplate(_ reference: Int32, from old: Shard) -> Int32 {
        reference < 0 ? reference : store.copy(Int(reference), from: old.store)
    }

    /// The packed shard. Its arrays are trimmed to their size: appending grows them by doubling, and a shard
    /// lives until a change touches it, so the slack (a third of the compiled bytes) would be held for good.
    func finish() -> Shard {
        guard !entries.isEmpty else { return .empty }
        var store = store
        store.bytes = Self.fitted(store.bytes)
        store.entries = Self.fitted(store.entries)
        store.relocations = Self.fitted(store.relocations)
        return Shard(nodes: Self.fitted(entries), hashes: Self.fitted(hashes), names: Self.fitted(names),
                     types: Self.fitted(types), variants: Self.fitted(variants), store: store)
    }

    static func fitted<T>(_ array: [T]) -> [T] {
        guard array.capacity > array.count + array.count / 8 + 4 else { return array }
        return [T](unsafeUninitializedCapacity: array.count) { buffer, initialized in
            _ = buffer.initialize(from: array)
            initialized = array.count
        }
    }

    /// `old` with the nodes named in `replaced` dropped and `fresh` added (a replaced name that still exists
    /// comes back in `fresh`).
    static func rebuild(_ old: Shard, replacing replaced: [DomainName], with fresh: [PendingNode]) -> Shard {
        var replacedHashes = Set<UInt32>()
        var replacedKeys = Set<[UInt8]>()
        for name in replaced {
            replacedHashes.insert(NameHash.hash(name.key))
            replacedKeys.insert(name.key)
        }
        var packer = ShardPacker(capacity: old.nodes.count + fresh.count)
        for index in old.nodes.indices {
            if replacedHashes.contains(old.hashes[index]) {
                let entry = old.nodes[index]
                let start = Int(entry.nameStart)
                if replacedKeys.contains(Array(old.names[start..<(start + Int(entry.nameLength))])) { continue }
            }
            packer.copy(index, of: old)
        }
        for node in fresh { packer.add(node) }
        return packer.finish()
    }
}
