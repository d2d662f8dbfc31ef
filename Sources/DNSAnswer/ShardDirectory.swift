/// The shards of a table in two levels: blocks of `blockSize` shards. An update that rebuilds a few shards
/// copies the block list and the blocks holding them, not one reference per shard: with 16,384 shards, copying
/// (and later releasing) the whole flat array was most of the cost of publishing one changed service at
/// 100,000 services. A lookup pays one more dependent load.
struct ShardDirectory: Sendable {
    static let blockSize = 64
    static let blockShift = 6

    /// `blockSize` shard references stored in the block object itself (no array buffer behind it: a lookup
    /// pays one dependent load fewer). Immutable once made; see `Shard` for why it is not declared `Sendable`.
    final class Block: ManagedBuffer<Void, Shard> {
        static func make(_ shards: some Collection<Shard>) -> Block {
            precondition(shards.count == ShardDirectory.blockSize, "a block holds blockSize shards")
            let block = unsafeDowncast(Block.create(minimumCapacity: ShardDirectory.blockSize) { _ in () },
                                       to: Block.self)
            block.withUnsafeMutablePointerToElements { elements in
                _ = UnsafeMutableBufferPointer(start: elements, count: ShardDirectory.blockSize).initialize(from: shards)
            }
            return block
        }

        deinit {
            _ = withUnsafeMutablePointerToElements { $0.deinitialize(count: ShardDirectory.blockSize) }
        }

        @inline(__always)
        subscript(index: Int) -> Shard { withUnsafeMutablePointerToElements { $0[index] } }

        @inline(__always)
        func address(of index: Int) -> UnsafeRawPointer {
            UnsafeRawPointer(withUnsafeMutablePointerToElements { $0 + index })
        }

        var shards: [Shard] {
            withUnsafeMutablePointerToElements { Array(UnsafeBufferPointer(start: $0, count: ShardDirectory.blockSize)) }
        }

        nonisolated(unsafe) static let empty = Block.make(Array(repeating: .empty, count: ShardDirectory.blockSize))
    }

    nonisolated(unsafe) private(set) var blocks: [Block]

    /// `count` empty shards (a multiple of the block size).
    init(count: Int) {
        precondition(count % Self.blockSize == 0, "the shard count is a multiple of the block size")
        blocks = Array(repeating: .empty, count: count / Self.blockSize)
    }

    /// The given shards, in order.
    init(_ shards: [Shard]) {
        precondition(shards.count % Self.blockSize == 0, "the shard count is a multiple of the block size")
        blocks = stride(from: 0, to: shards.count, by: Self.blockSize).map { start in
            Block.make(shards[start..<(start + Self.blockSize)])
        }
    }

    var count: Int { blocks.count * Self.blockSize }

    @inline(__always)
    subscript(index: Int) -> Shard {
        blocks[index &>> Self.blockShift][index & (Self.blockSize - 1)]
    }

    /// Where the reference to shard `index` is stored (to prefetch it).
    @inline(__always)
    func referenceAddress(of index: Int) -> UnsafeRawPointer {
        blocks[index &>> Self.blockShift].address(of: index & (Self.blockSize - 1))
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
            blocks[block] = Block.make(shards)
        }
    }
}
