/// The shards of a table in two levels: blocks of `blockSize` shards. An update that rebuilds a few shards
/// copies the block list and the blocks holding them, not one reference per shard: with 16,384 shards, copying
/// (and later releasing) the whole flat array was most of the cost of publishing one changed service at
/// 100,000 services. A lookup pays one more dependent load.
struct ShardDirectory: Sendable {
    static let blockSize = 64
    static let blockShift = 6

    final class Block: Sendable {
        let shards: [Shard]
        init(_ shards: [Shard]) { self.shards = shards }
        static let empty = Block(Array(repeating: .empty, count: ShardDirectory.blockSize))
    }

    private(set) var blocks: [Block]

    /// `count` empty shards (a multiple of the block size).
    init(count: Int) {
        precondition(count % Self.blockSize == 0, "the shard count is a multiple of the block size")
        blocks = Array(repeating: .empty, count: count / Self.blockSize)
    }

    /// The given shards, in order.
    init(_ shards: [Shard]) {
        precondition(shards.count % Self.blockSize == 0, "the shard count is a multiple of the block size")
        blocks = stride(from: 0, to: shards.count, by: Self.blockSize).map { start in
            Block(Array(shards[start..<(start + Self.blockSize)]))
        }
    }

    var count: Int { blocks.count * Self.blockSize }

    @inline(__always)
    subscript(index: Int) -> Shard {
        blocks[index &>> Self.blockShift].shards[index & (Self.blockSize - 1)]
    }

    /// Every shard, in order.
    var all: some Sequence<Shard> { blocks.lazy.flatMap(\.shards) }

    /// Puts `replacements` (shard index → shard) in place, copying only the blocks they fall in.
    mutating func replace(_ replacements: [(Int, Shard)]) {
        var byBlock: [Int: [(Int, Shard)]] = [:]
        for (index, shard) in replacements { byBlock[index &>> Self.blockShift, default: []].append((index, shard)) }
        for (block, entries) in byBlock {
            var shards = blocks[block].shards
            for (index, shard) in entries { shards[index & (Self.blockSize - 1)] = shard }
            blocks[block] = Block(shards)
        }
    }
}
