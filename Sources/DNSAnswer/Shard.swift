/// A name in a shard: where its lower-cased wire name is, its zone, and its compiled answers by type.
struct NodeEntry: Sendable {
    var nameStart: UInt32
    var nameLength: UInt16
    var zone: UInt16
    var typesStart: UInt32
    var typesCount: UInt16
    var variantsStart: UInt32
    var variantsCount: UInt16
    /// The answer for every type without an entry of its own (NODATA, a CNAME chain's end, a referral).
    var fallback: Int32
    /// At or below a zone cut: a missing name under it gets `fallback` (the referral) too.
    var delegated: Bool
    /// `*.<this name>` exists: a missing name under it is answered by that wildcard.
    var hasWildcardChild: Bool
}

struct TypeEntry: Sendable {
    var qtype: UInt16
    var template: Int32
}

/// A requester-specific answer: for requesters known to sit in cluster `requester` (DESIGN §4.3).
struct VariantEntry: Sendable {
    var requester: UInt16
    var qtype: UInt16
    var template: Int32
}

struct Slot: Sendable {
    var hash: UInt32
    /// Index into `nodes`, or -1 for an empty slot.
    var node: Int32
}

/// One slice of the answer table: a flat open-addressing table over lower-cased wire names (DESIGN §7).
/// An update rebuilds only the shards whose names changed; the others are shared with the previous table.
final class Shard: Sendable {
    let slots: [Slot]
    let mask: Int
    let nodes: [NodeEntry]
    /// The name hash of each node (same index as `nodes`): an update copies entries without re-hashing.
    let hashes: [UInt32]
    let names: [UInt8]
    let types: [TypeEntry]
    let variants: [VariantEntry]
    /// Answers owned by this shard. A template reference below zero points into the table's shared store.
    let store: TemplateStore

    init(nodes: [NodeEntry], hashes: [UInt32], names: [UInt8], types: [TypeEntry], variants: [VariantEntry] = [],
         store: TemplateStore) {
        var capacity = 8
        while capacity < nodes.count * 2 { capacity <<= 1 }
        var slots = Array(repeating: Slot(hash: 0, node: -1), count: capacity)
        let mask = capacity - 1
        for (index, hash) in hashes.enumerated() {
            var position = Int(hash) & mask
            while slots[position].node >= 0 { position = (position + 1) & mask }
            slots[position] = Slot(hash: hash, node: Int32(index))
        }
        self.slots = slots
        self.mask = mask
        self.nodes = nodes
        self.hashes = hashes
        self.names = names
        self.types = types
        self.variants = variants
        self.store = store
    }

    static let empty = Shard(nodes: [], hashes: [], names: [], types: [], store: TemplateStore())

    /// Finds the node whose name equals `prefix` (may be empty) followed by `packet[start..<end]`, case-insensitively.
    @inline(__always)
    func find(hash: UInt32, prefix: (UInt8, UInt8)?, packet: UnsafeRawBufferPointer, start: Int, end: Int) -> Int32 {
        let wanted = (prefix == nil ? 0 : 2) + end - start
        var position = Int(hash) & mask
        while true {
            let slot = slots[position]
            if slot.node < 0 { return -1 }
            if slot.hash == hash {
                let node = nodes[Int(slot.node)]
                if Int(node.nameLength) == wanted && matches(node, prefix: prefix, packet, start, end) {
                    return slot.node
                }
            }
            position = (position + 1) & mask
        }
    }

    @inline(__always)
    private func matches(_ node: NodeEntry, prefix: (UInt8, UInt8)?, _ packet: UnsafeRawBufferPointer,
                         _ start: Int, _ end: Int) -> Bool {
        var at = Int(node.nameStart)
        if let prefix {
            guard names[at] == prefix.0, names[at + 1] == prefix.1 else { return false }
            at += 2
        }
        var i = start
        while i < end {
            let byte = packet[i]
            if names[at] != (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) { return false }
            at += 1
            i += 1
        }
        return true
    }

    /// The requester-specific template for `qtype` at `node`, when the node has one.
    @inline(__always)
    func variant(node: Int32, requester: Int, qtype: UInt16) -> Int32? {
        let entry = nodes[Int(node)]
        var i = Int(entry.variantsStart)
        let end = i + Int(entry.variantsCount)
        while i < end {
            let variant = variants[i]
            if Int(variant.requester) == requester && variant.qtype == qtype { return variant.template }
            i += 1
        }
        return nil
    }

    /// The template for `qtype` at `node`, or its fallback.
    @inline(__always)
    func template(node: Int32, qtype: UInt16) -> Int32 {
        let entry = nodes[Int(node)]
        var i = Int(entry.typesStart)
        let end = i + Int(entry.typesCount)
        while i < end {
            if types[i].qtype == qtype { return types[i].template }
            i += 1
        }
        return entry.fallback
    }
}
