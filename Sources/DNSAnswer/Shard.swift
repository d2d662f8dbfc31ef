import DNSWire

/// A name in a shard: where its lower-cased wire name is, its zone's origin, and its compiled answers by type.
/// 16 bytes (a million names at scale): a node's requester variants, which few names have, are found by its index
/// in the variants section instead of through fields of every node (24 bytes with them).
struct NodeEntry: Sendable {
    var nameStart: UInt32
    var typesStart: UInt32
    /// The answer for every type without an entry of its own (NODATA, a CNAME chain's end, a referral).
    var fallback: Int32
    /// Which of the shard's `OriginEntry`s the stored name is followed by (and so its zone).
    var origin: UInt8
    /// At most `maxTypes`: the compile refuses a name with more (`CompileError.tooManyTypes`).
    var typesCount: UInt8
    /// A wire name has at most 255 bytes.
    var nameLength: UInt8
    private var flags: UInt8

    static let maxTypes = Int(UInt8.max)

    init(nameStart: UInt32, nameLength: UInt8, origin: UInt8, typesStart: UInt32, typesCount: UInt8,
         fallback: Int32, delegated: Bool, hasWildcardChild: Bool, hasVariants: Bool = false,
         anyIsFirstType: Bool = false) {
        self.nameStart = nameStart
        self.typesStart = typesStart
        self.fallback = fallback
        self.origin = origin
        self.typesCount = typesCount
        self.nameLength = nameLength
        var flags: UInt8 = 0
        if delegated { flags |= 1 }
        if hasWildcardChild { flags |= 2 }
        if hasVariants { flags |= 4 }
        if anyIsFirstType { flags |= 8 }
        self.flags = flags
    }

    /// At or below a zone cut: a missing name under it gets `fallback` (the referral) too.
    var delegated: Bool { flags & 1 != 0 }
    /// `*.<this name>` exists: a missing name under it is answered by that wildcard.
    var hasWildcardChild: Bool { flags & 2 != 0 }
    /// Some requesters get answers of their own here (`VariantEntry`s carrying this node's index).
    var hasVariants: Bool { flags & 4 != 0 }
    /// ANY has no type entry: its answer is the first type's, as minimal ANY (RFC 8482) mostly is. At most
    /// names, which have only A, that halves the type entries (8 bytes of 16).
    var anyIsFirstType: Bool { flags & 8 != 0 }
}

struct TypeEntry: Sendable {
    var qtype: RRType
    var template: Int32
}

/// A requester-specific answer: for requesters known to sit in cluster `requester` (DESIGN §4.3). A shard keeps
/// them ordered by node.
struct VariantEntry: Sendable {
    var node: UInt32
    var requester: UInt16
    var qtype: RRType
    var template: Int32

    /// The `qtype` of a requester's answer to every type it has no entry of: a variant that is a CNAME answers
    /// every type (type 0 is reserved, RFC 6895, so no query needs an entry of its own there).
    static let otherTypes = RRType.reserved
}

/// A slot of a shard's table: 4 bytes, 0 when empty, else a 12-bit tag of the name hash above the node's index
/// plus one. At a million names the slots took 22 bytes a name as a full hash and an index (8 bytes a slot, at
/// 2.7 slots a name); the tag still turns away all but one in 4,096 other names before their name is compared.
enum Slot {
    static let empty: UInt32 = 0
    static let indexBits: UInt32 = 20
    /// Nodes a shard can index: 16 billion names in all at 16,384 shards, were they spread evenly.
    static let maxNodes = Int((1 << indexBits) - 2)

    /// The tag is taken from a multiply of the hash: the low bits of the hash pick the slot, so they would not
    /// tell the names of one home slot apart. (The shard is picked by another hash, of a name's first labels:
    /// `NameHash.group`.)
    @inline(__always)
    static func tag(of hash: UInt32) -> UInt32 { (hash &* 0x9E37_79B1) >> indexBits }

    @inline(__always)
    static func make(hash: UInt32, node: Int) -> UInt32 { tag(of: hash) << indexBits | UInt32(node + 1) }

    /// The node index of an occupied slot.
    @inline(__always)
    static func node(_ slot: UInt32) -> Int { Int(slot & ((1 << indexBits) - 1)) - 1 }
}

/// Where a shard's sections start inside its one allocation (byte offsets from the element base). Every section
/// starts 8-byte aligned; the slots come first, at offset 0. Section lengths follow from the entries that
/// point into them, so only the node count and the total are kept.
struct ShardLayout: Sendable {
    var mask: Int32 = 0
    var nodeCount: Int32 = 0
    var nodes: Int32 = 0
    var types: Int32 = 0
    var templates: Int32 = 0
    var templateCount: Int32 = 0
    var names: Int32 = 0
    var bytes: Int32 = 0
    var variants: Int32 = 0
    var variantCount: Int32 = 0
    var relocations: Int32 = 0
    /// The origins of the zones the shard's names belong to (`OriginEntry`s; their bytes end the names section).
    var origins: Int32 = 0
    var byteCount: Int32 = 0
}

/// A zone origin a shard's names end with: the names section keeps each name without it (13 to 18 bytes of a
/// 40-byte name under `example.com.` or `clusterset.local.`), and the origin once, at the section's end.
/// Every node has one (of length 0 when the shard was made without origins), so the zone is found through it too.
/// A shard holds names of one or two zones, rarely more; at most `maxOrigins`.
struct OriginEntry: Sendable {
    static let maxOrigins = Int(UInt8.max) + 1

    var zone: UInt16
    var length: UInt16
    /// Offset inside the names section.
    var start: UInt32
}

/// One slice of the answer table: a flat open-addressing table over lower-cased wire names (DESIGN §7).
/// An update rebuilds only the shards whose names changed; the others are shared with the previous table.
///
/// Everything of a shard lives in one allocation, the object itself: slots, node entries, names, type entries,
/// template entries and answer bytes, in the order a lookup reads them, then the parts only updates read
/// (hashes, variants, relocations).
/// A lookup touches one object instead of one per array: with separate arrays, perf showed the chain of
/// dependent cache misses (object, slots, nodes, names, types, templates, bytes) as the answer path's main cost.
///
/// The standard library makes `ManagedBuffer` unavailable as `Sendable`, so a shard cannot say it is. It is
/// immutable once `make` returns; the containers that hand shards across threads (`AnswerTable`,
/// `ShardDirectory.Block`) hold them as `nonisolated(unsafe)` for that reason.
final class Shard: ManagedBuffer<ShardLayout, UInt64> {
    /// Packs the given sections into a new shard.
    ///
    /// A node's name is its bytes in `names` followed by the origin of its zone from `origins` (none: the name is
    /// whole in `names`).
    static func make(nodes: [NodeEntry], hashes: [UInt32], names: [UInt8], types: [TypeEntry],
                     variants: [VariantEntry] = [], store: TemplateStore, origins: [OriginEntry] = []) -> Shard {
        precondition(nodes.count <= Slot.maxNodes, "a shard indexes at most \(Slot.maxNodes) names")
        precondition(origins.count <= OriginEntry.maxOrigins, "a shard's names are of at most 256 zones")
        // Every node names an origin entry: without origins, names are stored whole (an origin of length 0).
        let origins = origins.isEmpty && !nodes.isEmpty ? [OriginEntry(zone: 0, length: 0, start: 0)] : origins
        var capacity = 8
        while capacity < nodes.count * 2 { capacity <<= 1 }
        var layout = ShardLayout()
        var size = 0
        func section<T>(_ type: T.Type, _ count: Int) -> Int32 {
            let start = size
            size += (count * MemoryLayout<T>.stride + 7) & ~7
            return Int32(start)
        }
        _ = section(UInt32.self, capacity)
        layout.nodes = section(NodeEntry.self, nodes.count)
        layout.names = section(UInt8.self, names.count)
        layout.origins = section(OriginEntry.self, origins.count)
        layout.types = section(TypeEntry.self, types.count)
        layout.templates = section(TemplateEntry.self, store.entries.count)
        layout.templateCount = Int32(store.entries.count)
        layout.bytes = section(UInt8.self, store.bytes.count)
        layout.variants = section(VariantEntry.self, variants.count)
        layout.variantCount = Int32(variants.count)
        layout.relocations = section(Relocation.self, store.relocations.count)
        precondition(size < Int(Int32.max), "a shard holds less than 2 GiB")
        layout.mask = Int32(capacity - 1)
        layout.nodeCount = Int32(nodes.count)
        layout.byteCount = Int32(size)
        let made = unsafeDowncast(Shard.create(minimumCapacity: max(size / 8, 1)) { _ in layout }, to: Shard.self)
        made.withUnsafeMutablePointerToElements { words in
            let base = UnsafeMutableRawPointer(words)
            let slots = base.bindMemory(to: UInt32.self, capacity: capacity)
            slots.initialize(repeating: Slot.empty, count: capacity)
            let mask = capacity - 1
            for (index, hash) in hashes.enumerated() {
                var position = Int(hash) & mask
                while slots[position] != Slot.empty { position = (position + 1) & mask }
                slots[position] = Slot.make(hash: hash, node: index)
            }
            func copy<T>(_ array: [T], to offset: Int32) {
                array.withUnsafeBufferPointer { source in
                    guard let from = source.baseAddress, !source.isEmpty else { return }
                    base.advanced(by: Int(offset)).bindMemory(to: T.self, capacity: source.count)
                        .initialize(from: from, count: source.count)
                }
            }
            copy(nodes, to: layout.nodes)
            copy(types, to: layout.types)
            copy(store.entries, to: layout.templates)
            copy(names, to: layout.names)
            copy(origins, to: layout.origins)
            copy(store.bytes, to: layout.bytes)
            copy(variants, to: layout.variants)
            copy(store.relocations, to: layout.relocations)
        }
        return made
    }

    nonisolated(unsafe) static let empty = Shard.make(nodes: [], hashes: [], names: [], types: [], store: TemplateStore())

    // MARK: - Reading

    /// The start of the sections. The shard outlives every use: the table that holds it is held while it answers.
    @inline(__always)
    var base: UnsafeRawPointer { UnsafeRawPointer(withUnsafeMutablePointerToElements { $0 }) }

    /// The layout, read through the header pointer: `header` itself is a stored class property, and reading
    /// it costs a dynamic exclusivity check (a `swift_beginAccess` call) per lookup.
    @inline(__always)
    var layout: ShardLayout { withUnsafeMutablePointerToHeader { $0.pointee } }

    @inline(__always)
    var nodeCount: Int { Int(layout.nodeCount) }

    /// Bytes of the allocation's sections (the object header aside).
    var byteCount: Int { Int(layout.byteCount) }

    @inline(__always)
    func node(_ index: Int) -> NodeEntry {
        base.load(fromByteOffset: Int(layout.nodes) + index * MemoryLayout<NodeEntry>.stride, as: NodeEntry.self)
    }

    /// The name hash of every node, by node index: an update copies entries with their hashes. Hashed again
    /// from the names (the slots keep only a tag), about 60 names a shard at scale.
    func nodeHashes() -> [UInt32] {
        (0..<nodeCount).map { index in
            let entry = node(index)
            let stored = name(of: entry)
            let origin = self.origin(of: entry)
            return NameHash.hash(origin, from: 0, to: origin.count,
                                 seed: NameHash.hash(stored, from: 0, to: stored.count))
        }
    }

    @inline(__always)
    func type(_ index: Int) -> TypeEntry {
        base.load(fromByteOffset: Int(layout.types) + index * MemoryLayout<TypeEntry>.stride, as: TypeEntry.self)
    }

    @inline(__always)
    func variant(at index: Int) -> VariantEntry {
        base.load(fromByteOffset: Int(layout.variants) + index * MemoryLayout<VariantEntry>.stride,
                  as: VariantEntry.self)
    }

    /// The lower-cased wire name of a node as stored: without the origin of its zone (`origin(of:)`).
    func name(of entry: NodeEntry) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base.advanced(by: Int(layout.names) + Int(entry.nameStart)),
                               count: Int(entry.nameLength))
    }

    /// The origin the stored name of a node is followed by (empty when the shard keeps none for its zone).
    func origin(of entry: NodeEntry) -> UnsafeRawBufferPointer {
        let found = originEntry(of: entry)
        return UnsafeRawBufferPointer(start: base.advanced(by: Int(layout.names) + Int(found.start)),
                                      count: Int(found.length))
    }

    /// The table's index of the zone a node belongs to.
    @inline(__always)
    func zone(of entry: NodeEntry) -> Int { Int(originEntry(of: entry).zone) }

    /// The whole lower-cased wire name of a node.
    func fullName(of entry: NodeEntry) -> [UInt8] { Array(name(of: entry)) + Array(origin(of: entry)) }

    @inline(__always)
    func originEntry(of entry: NodeEntry) -> OriginEntry {
        Self.origin(entry.origin, layout, base)
    }

    @inline(__always)
    private static func origin(_ index: UInt8, _ layout: ShardLayout, _ base: UnsafeRawPointer) -> OriginEntry {
        base.load(fromByteOffset: Int(layout.origins) + Int(index) * MemoryLayout<OriginEntry>.stride,
                  as: OriginEntry.self)
    }

    /// Compiled answer `index` of this shard: its header facts, and where its body and relocations start. (A
    /// template reference below zero names one of the table's shared answers instead: `AnswerTable.shared`.)
    @inline(__always)
    func template(_ index: Int) -> (entry: TemplateEntry, bytes: UnsafeRawPointer, relocations: UnsafeRawPointer) {
        let layout = self.layout
        let base = self.base
        let entry = base.load(fromByteOffset: Int(layout.templates) + index * MemoryLayout<TemplateEntry>.stride,
                              as: TemplateEntry.self)
        return (entry, base.advanced(by: Int(layout.bytes)), base.advanced(by: Int(layout.relocations)))
    }

    /// Finds the node whose name equals `prefix` (may be empty) followed by `packet[start..<end]`, case-insensitively.
    @inline(__always)
    func find(hash: UInt32, prefix: (UInt8, UInt8)?, packet: UnsafeRawBufferPointer, start: Int, end: Int) -> Int32 {
        let layout = self.layout
        let base = self.base
        let wanted = (prefix == nil ? 0 : 2) + end - start
        let mask = Int(layout.mask)
        let tag = Slot.tag(of: hash)
        var position = Int(hash) & mask
        while true {
            let slot = base.load(fromByteOffset: position * MemoryLayout<UInt32>.stride, as: UInt32.self)
            if slot == Slot.empty { return -1 }
            if slot >> Slot.indexBits == tag {
                let index = Slot.node(slot)
                let node = base.load(fromByteOffset: Int(layout.nodes) + index * MemoryLayout<NodeEntry>.stride,
                                     as: NodeEntry.self)
                let origin = Self.origin(node.origin, layout, base)
                let stem = end - Int(origin.length)
                if Int(node.nameLength) + Int(origin.length) == wanted
                    && Self.matches(base.advanced(by: Int(layout.names) + Int(node.nameStart)), prefix: prefix,
                                    packet, start, stem)
                    && Self.matches(base.advanced(by: Int(layout.names) + Int(origin.start)), prefix: nil,
                                    packet, stem, end)
                {
                    return Int32(index)
                }
            }
            position = (position + 1) & mask
        }
    }

    @inline(__always)
    private static func matches(_ name: UnsafeRawPointer, prefix: (UInt8, UInt8)?, _ packet: UnsafeRawBufferPointer,
                                _ start: Int, _ end: Int) -> Bool {
        var at = 0
        if let prefix {
            guard name.load(as: UInt8.self) == prefix.0, name.load(fromByteOffset: 1, as: UInt8.self) == prefix.1
            else { return false }
            at = 2
        }
        var i = start
        while i < end {
            let byte = packet[i]
            if name.load(fromByteOffset: at, as: UInt8.self) != (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) {
                return false
            }
            at += 1
            i += 1
        }
        return true
    }

    /// The requester-specific template for `qtype` at `node`, when the node has one.
    @inline(__always)
    func variant(node: Int32, requester: Int, qtype: RRType) -> Int32? {
        var other: Int32? = nil
        for i in variantRange(node: Int(node)) {
            let variant = variant(at: i)
            guard Int(variant.requester) == requester else { continue }
            if variant.qtype == qtype { return variant.template }
            if variant.qtype == VariantEntry.otherTypes { other = variant.template }
        }
        return other
    }

    /// Where the variants of `node` are: they are ordered by node, and a binary search finds the first.
    @inline(__always)
    func variantRange(node: Int) -> Range<Int> {
        let wanted = UInt32(node)
        let count = Int(layout.variantCount)
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) >> 1
            if variant(at: middle).node < wanted { low = middle + 1 } else { high = middle }
        }
        var end = low
        while end < count && variant(at: end).node == wanted { end += 1 }
        return low..<end
    }

    /// The template for `qtype` at `node`, or its fallback.
    @inline(__always)
    func template(node: Int32, qtype: RRType) -> Int32 {
        let entry = self.node(Int(node))
        var i = Int(entry.typesStart)
        let end = i + Int(entry.typesCount)
        while i < end {
            let type = type(i)
            if type.qtype == qtype { return type.template }
            i += 1
        }
        if qtype == .any && entry.anyIsFirstType { return self.type(Int(entry.typesStart)).template }
        return entry.fallback
    }
}

extension Shard {
    /// What must hold of a shard as `make` left it; returns each violation found (none when it is sound):
    /// - the sections lie in order inside the allocation, the slot count is a power of two at least twice the
    ///   node count;
    /// - every occupied slot holds a node index in range with the tag of that node's name hash, every node is in
    ///   exactly one slot, and a lookup of the node's own name from its hash finds it (the slot resolves to its
    ///   node: no empty slot between its home and it);
    /// - every node's name lies in the names section, its origin entry is one of the shard's and names a zone of
    ///   the table whose origin bytes it holds, and (for a table's shard `index`) the name's group hash picks
    ///   this shard;
    /// - type runs lie in the types section, and no type entry is in two nodes' runs;
    /// - every template reference (types, fallbacks, variants) names a template of this shard (>= 0) or one of
    ///   the table's `sharedCount` shared ones (< 0), and every template's body and relocations lie in their
    ///   sections;
    /// - in a shard of names, each template is its one node's: referenced by that node only (by several of its
    ///   types, variants and fallback when they are the same answer), and by some node; the bytes of two
    ///   templates overlap only when both are one node's, neither rotates, and both start at the same byte (one
    ///   body the start of the other, as ANY without the additional section is of the one type's answer);
    /// - variants are ordered by node, name a node in range that says it has variants, and every node that says
    ///   so has one;
    /// - a rotating template's run (`Rotation`) lies in the part truncation keeps, holds at least two records,
    ///   no relocation lies in it or lands in it, and each point is the start of a record of the run; its kept
    ///   length is the whole run, or whole records of a run of one record size that ends the body.
    func validate(index: Int?, origins: [[UInt8]], sharedCount: Int) -> [String] {
        var problems: [String] = []
        let label = index.map { "shard \($0)" } ?? "the shared answers"
        func fail(_ message: String) { if problems.count < 20 { problems.append("\(label): \(message)") } }
        let layout = self.layout
        let starts = [0, layout.nodes, layout.names, layout.origins, layout.types, layout.templates, layout.bytes,
                      layout.variants, layout.relocations, layout.byteCount].map(Int.init)
        guard zip(starts, starts.dropFirst()).allSatisfy({ $0 <= $1 }) else { return ["\(label): sections out of order \(starts)"] }
        let slotCount = Int(layout.mask) + 1
        let nodes = nodeCount
        func capacity<T>(_ type: T.Type, _ from: Int32, _ to: Int32) -> Int { Int(to - from) / MemoryLayout<T>.stride }
        if slotCount & (slotCount - 1) != 0 || slotCount < 8 || slotCount < nodes * 2
            || slotCount * MemoryLayout<UInt32>.stride > Int(layout.nodes) {
            fail("\(slotCount) slots for \(nodes) nodes")
        }
        if capacity(NodeEntry.self, layout.nodes, layout.names) < nodes { fail("\(nodes) nodes overrun their section") }
        let typeCount = capacity(TypeEntry.self, layout.types, layout.templates)
        let originCount = capacity(OriginEntry.self, layout.origins, layout.types)
        let templateCount = Int(layout.templateCount)
        if capacity(TemplateEntry.self, layout.templates, layout.bytes) < templateCount { fail("templates overrun their section") }
        let variantCount = Int(layout.variantCount)
        if capacity(VariantEntry.self, layout.variants, layout.relocations) < variantCount { fail("variants overrun their section") }
        guard problems.isEmpty else { return problems }

        func checkReference(_ reference: Int32, _ what: String) {
            if reference >= 0 ? Int(reference) >= templateCount : Int(-(reference + 1)) >= sharedCount {
                fail("\(what) refers to template \(reference) (\(templateCount) here, \(sharedCount) shared)")
            }
        }
        let byteLength = Int(layout.variants - layout.bytes)
        let relocationCapacity = capacity(Relocation.self, layout.relocations, layout.byteCount)
        for t in 0..<templateCount {
            let entry = template(t).entry
            if Int(entry.bodyStart) + entry.storedLength > byteLength
                || Int(entry.relocationStart) + Int(entry.relocationCount) > relocationCapacity {
                fail("template \(t)'s body, rotation points or relocations run past their section")
                continue
            }
            if entry.rotationCount > 0 { checkRotation(t, entry, fail) }
        }
        let namesLength = Int(layout.origins - layout.names)
        // The node each type entry and template belongs to (-1: none yet).
        var typeOwner = [Int32](repeating: -1, count: typeCount)
        var templateOwner = [Int32](repeating: -1, count: templateCount)
        func own(_ reference: Int32, by n: Int, _ what: String) {
            guard reference >= 0, Int(reference) < templateCount else { return }
            let owner = templateOwner[Int(reference)]
            if owner < 0 {
                templateOwner[Int(reference)] = Int32(n)
            } else if owner != Int32(n) {
                fail("\(what) refers to template \(reference), which is node \(owner)'s")
            }
        }
        var nodeOK = [Bool](repeating: true, count: nodes)
        for n in 0..<nodes {
            let entry = node(n)
            guard Int(entry.nameStart) + Int(entry.nameLength) <= namesLength, Int(entry.origin) < originCount else {
                fail("node \(n)'s name or origin entry is out of its section")
                nodeOK[n] = false
                continue
            }
            let origin = originEntry(of: entry)
            if Int(origin.start) + Int(origin.length) > namesLength {
                fail("node \(n)'s origin runs past the names")
                nodeOK[n] = false
                continue
            }
            if Int(origin.zone) < origins.count, origin.length > 0,
               !self.origin(of: entry).elementsEqual(origins[Int(origin.zone)]) {
                fail("node \(n)'s origin is not the origin of zone \(origin.zone)")
            }
            if !origins.isEmpty, Int(origin.zone) >= origins.count { fail("node \(n) is of zone \(origin.zone), which the table lacks") }
            if Int(entry.typesStart) + Int(entry.typesCount) > typeCount {
                fail("node \(n)'s types run past their section")
                nodeOK[n] = false
                continue
            }
            for t in Int(entry.typesStart)..<(Int(entry.typesStart) + Int(entry.typesCount)) {
                if typeOwner[t] >= 0 { fail("node \(n)'s type entry \(t) is in node \(typeOwner[t])'s run too") }
                typeOwner[t] = Int32(n)
                checkReference(type(t).template, "node \(n)'s type entry \(t)")
                own(type(t).template, by: n, "node \(n)'s type entry \(t)")
            }
            if entry.anyIsFirstType && entry.typesCount == 0 { fail("node \(n) answers ANY with its first type and has none") }
            checkReference(entry.fallback, "node \(n)'s fallback")
            own(entry.fallback, by: n, "node \(n)'s fallback")
            if let index {
                let full = fullName(of: entry)
                if AnswerTable.shard(of: NameHash.group(full)) != index { fail("node \(n)'s name belongs to another shard") }
            }
        }
        // Slots: each node once, under its tag, and found from its hash.
        let hashes = nodeHashes()
        var slotted = [Int](repeating: 0, count: nodes)
        let slots = base.assumingMemoryBound(to: UInt32.self)
        for position in 0..<slotCount where slots[position] != Slot.empty {
            let n = Slot.node(slots[position])
            guard n >= 0, n < nodes else {
                fail("slot \(position) holds node \(n) of \(nodes)")
                continue
            }
            slotted[n] += 1
            if nodeOK[n], slots[position] >> Slot.indexBits != Slot.tag(of: hashes[n]) { fail("slot \(position)'s tag is not node \(n)'s") }
        }
        for n in 0..<nodes where slotted[n] != 1 { fail("node \(n) is in \(slotted[n]) slots") }
        for n in 0..<nodes where nodeOK[n] && slotted[n] == 1 {
            let full = fullName(of: node(n))
            let found = full.withUnsafeBytes { find(hash: hashes[n], prefix: nil, packet: $0, start: 0, end: full.count) }
            if found != Int32(n) { fail("looking up node \(n)'s own name finds \(found)") }
        }
        // Variants.
        var previous: UInt32 = 0
        var varied = Set<UInt32>()
        for v in 0..<variantCount {
            let variant = variant(at: v)
            if variant.node < previous { fail("variant \(v) is out of node order") }
            previous = variant.node
            guard Int(variant.node) < nodes, node(Int(variant.node)).hasVariants else {
                fail("variant \(v) is for node \(variant.node), which has none")
                continue
            }
            varied.insert(variant.node)
            checkReference(variant.template, "variant \(v)")
            own(variant.template, by: Int(variant.node), "variant \(v)")
        }
        for n in 0..<nodes where node(n).hasVariants && !varied.contains(UInt32(n)) { fail("node \(n) says it has variants and has none") }
        if nodes > 0 { checkTemplateBytes(owners: templateOwner, fail) }
        return problems
    }
}

extension Shard {
    /// Each template has an owner, and bytes overlap only as a node's templates may (`validate`'s rules).
    private func checkTemplateBytes(owners: [Int32], _ fail: (String) -> Void) {
        for (t, owner) in owners.enumerated() where owner < 0 { fail("template \(t) is no node's") }
        let entries = (0..<owners.count).map { template($0).entry }
        // By start, the longest first: a body another's bytes start overlaps the one before it in this order.
        let order = entries.indices.filter { entries[$0].storedLength > 0 }.sorted {
            (entries[$0].bodyStart, entries[$1].storedLength) < (entries[$1].bodyStart, entries[$0].storedLength)
        }
        var outer: Int? = nil
        for t in order {
            let entry = entries[t]
            if let o = outer, Int(entry.bodyStart) < Int(entries[o].bodyStart) + entries[o].storedLength {
                if entry.bodyStart != entries[o].bodyStart || owners[t] != owners[o] || entry.rotationCount > 0
                    || entries[o].rotationCount > 0 {
                    fail("template \(t)'s bytes overlap template \(o)'s and are not the start of one node's answer")
                }
                continue
            }
            outer = t
        }
    }

    /// `Rotation`'s rules, for template `index`.
    private func checkRotation(_ index: Int, _ entry: TemplateEntry, _ fail: (String) -> Void) {
        let (_, bytes, relocationBase) = template(index)
        let body = bytes.advanced(by: Int(entry.bodyStart))
        let start = Int(entry.rotationStart), length = Int(entry.rotationLength)
        guard entry.rotationCount >= 2, length > 0, start + length <= Int(entry.trimmedLength) else {
            fail("template \(index)'s rotation (\(entry.rotationCount) points, \(start)+\(length)) is not a run inside its kept answer")
            return
        }
        // The records' starts in the run: owner (a pointer or labels), type, class, TTL, RDLENGTH, RDATA.
        var starts = Set<Int>()
        var at = 0
        while at < length {
            starts.insert(at)
            var cursor = start + at
            while cursor < start + length {
                let label = Int(body.load(fromByteOffset: cursor, as: UInt8.self))
                if label & 0xC0 == 0xC0 { cursor += 2; break }
                cursor += 1 + label
                if label == 0 { break }
            }
            guard cursor + 10 <= start + length else { break }
            let rdLength = Int(body.load(fromByteOffset: cursor + 8, as: UInt8.self)) << 8
                | Int(body.load(fromByteOffset: cursor + 9, as: UInt8.self))
            at = cursor + 10 + rdLength - start
        }
        if at != length || starts.count < 2 { fail("template \(index)'s rotation run is not whole records") }
        for i in 0..<Int(entry.rotationCount) {
            let point = Int(body.loadUnaligned(fromByteOffset: Int(entry.bodyLength) + 2 * i, as: UInt16.self))
            if !starts.contains(point) { fail("template \(index)'s rotation point \(point) is not a record's start") }
        }
        let kept = Int(body.loadUnaligned(fromByteOffset: Int(entry.bodyLength) + 2 * Int(entry.rotationCount),
                                          as: UInt16.self))
        if kept < length {
            // Served in part (`answers: N`): every record one size, whole records kept, nothing after the run.
            let size = starts.contains(0) ? (starts.filter { $0 > 0 }.min() ?? length) : length
            let evenlySpaced = starts.allSatisfy { $0 % size == 0 } && starts.count * size == length
            if kept == 0 || kept % size != 0 || !evenlySpaced || start + length != Int(entry.bodyLength)
                || entry.trimmedLength != entry.bodyLength {
                fail("template \(index) keeps \(kept) of its \(length)-byte rotation run: not whole records of one size at the body's end")
            }
        } else if kept != length {
            fail("template \(index) keeps \(kept) bytes of a \(length)-byte rotation run")
        }
        for i in Int(entry.relocationStart)..<(Int(entry.relocationStart) + Int(entry.relocationCount)) {
            let relocation = relocationBase.load(fromByteOffset: i * MemoryLayout<Relocation>.stride, as: Relocation.self)
            let position = Int(relocation.position), target = Int(relocation.target)
            if (position >= start && position < start + length)
                || (!relocation.isQnameSuffix && target >= start && target < start + length) {
                fail("template \(index) has a pointer in or into its rotation run")
            }
        }
    }

    /// Moves the first rotating template's first point off a record's start (tests only): `validate` must report
    /// it. False when no template here rotates.
    func damageRotationForTesting() -> Bool {
        for t in 0..<Int(layout.templateCount) {
            let entry = template(t).entry
            guard entry.rotationCount > 0 else { continue }
            let offset = Int(layout.bytes) + Int(entry.bodyStart) + Int(entry.bodyLength)
            withUnsafeMutablePointerToElements {
                UnsafeMutableRawPointer($0).storeBytes(of: UInt16(1), toByteOffset: offset, as: UInt16.self)
            }
            return true
        }
        return false
    }

    /// Adds one byte to the kept length of the first template served in part (`Rotation.kept`) (tests only):
    /// `validate` must report it. False when no template here is.
    func damageKeptForTesting() -> Bool {
        for t in 0..<Int(layout.templateCount) {
            let entry = template(t).entry
            guard entry.rotationCount > 0 else { continue }
            let offset = Int(layout.bytes) + Int(entry.bodyStart) + Int(entry.bodyLength) + 2 * Int(entry.rotationCount)
            let damaged = withUnsafeMutablePointerToElements { elements -> Bool in
                let at = UnsafeMutableRawPointer(elements).advanced(by: offset)
                let kept = at.loadUnaligned(as: UInt16.self)
                guard kept < entry.rotationLength else { return false }
                at.storeBytes(of: kept + 1, as: UInt16.self)
                return true
            }
            if damaged { return true }
        }
        return false
    }

    /// Points node 0's fallback at a template that does not exist (tests only): `validate` must report it.
    func damageForTesting() {
        guard nodeCount > 0 else { return }
        let offset = Int(layout.nodes) + MemoryLayout<NodeEntry>.offset(of: \NodeEntry.fallback)!
        withUnsafeMutablePointerToElements { UnsafeMutableRawPointer($0).storeBytes(of: Int32.max, toByteOffset: offset, as: Int32.self) }
    }
}
