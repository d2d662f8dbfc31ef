/// Every name of one zone with its bookkeeping, in flat storage: an entry array indexed by a name number, an
/// open-addressing index over the lower-cased wire names, and an arena of byte chunks holding each name and the
/// packed records of a live name.
///
/// At scale (a million live names, DESIGN §7) a `[DomainName: Entry]` dictionary with one heap array per name and
/// one per record set cost about 220 bytes a name: dictionary slots, two allocation headers and malloc rounding.
/// Here a name costs its entry (24 bytes), about 11 bytes of index and its bytes in the arena plus a 9-byte header.
///
/// Arena records are never edited in place: a name whose records change gets a new record at the arena's tail and
/// its old one becomes garbage. A chunk whose garbage passes half its bytes moves its live records to the tail and
/// is freed, so garbage stays bounded and no step ever copies more than one chunk.
struct NameStore: Sendable {
    struct Entry: Sendable, Equatable {
        /// Where the name's arena record is: chunk and byte offset of its header.
        var chunk: UInt32 = 0
        var offset: UInt32 = 0
        /// How many names sit directly below this one.
        var children: UInt32 = 0
        /// The owner number of a live name; 0 for the rest.
        var owner: UInt32 = 0
        /// The SOA TTL of NODATA at a live name with `hasNegativeTTL`.
        var negativeTTL: UInt32 = 0
        var flags: UInt8 = 0

        static let used: UInt8 = 1
        static let live: UInt8 = 2
        static let hasNegativeTTL: UInt8 = 4
        /// The record's data is a `PackedRRsets`.
        static let packed: UInt8 = 8

        func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
        mutating func set(_ flag: UInt8, _ on: Bool) { flags = on ? flags | flag : flags & ~flag }
    }

    /// A chunk's size; a record larger than this gets a chunk of its own.
    let chunkSize: Int
    /// Header of an arena record: name number (4 bytes), name length (1), data length (4).
    static let headerSize = 9

    /// By name number. In pages: an `Array` grown by doubling held 1.57 million entries' room for a million names.
    private(set) var entries = PagedArray<Entry>()
    private var freeIDs: [UInt32] = []
    /// 0 for an empty slot, else name number + 1. Kept at most half full.
    private var slots: [UInt32] = Array(repeating: 0, count: 16)
    private(set) var count = 0
    private var chunks: [[UInt8]] = []
    private var garbage: [Int] = []
    private var freeChunks: [Int] = []
    private var tail = -1

    /// The lower-cased wire form of the zone's origin, which every name held ends with: the arena keeps names
    /// without it (15 bytes a name, for `example.com.` and `clusterset.local.`).
    let suffix: [UInt8]

    /// `chunkSize` is 1 MiB outside tests: compacting one chunk then moves at most half a MiB.
    init(suffix: [UInt8] = [], chunkSize: Int = 1 << 20) {
        self.suffix = suffix
        self.chunkSize = chunkSize
    }

    // MARK: - Reading

    /// The number of the name whose lower-cased wire form is `key`.
    func find(_ key: [UInt8]) -> UInt32? {
        guard let key = stripped(key) else { return nil }
        let mask = slots.count - 1
        var position = home(NameHash.hash(key), mask)
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if nameEquals(slot - 1, key) { return slot - 1 }
            position = (position + 1) & mask
        }
    }

    subscript(id: UInt32) -> Entry {
        get { entries[Int(id)] }
        _modify { yield &entries[Int(id)] }
    }

    /// The lower-cased wire name of `id`.
    func name(of id: UInt32) -> [UInt8] { stored(id) + suffix }

    /// `key` without the suffix, or nil when it does not end with it.
    private func stripped(_ key: [UInt8]) -> [UInt8]? {
        guard key.count >= suffix.count, key[(key.count - suffix.count)...].elementsEqual(suffix) else { return nil }
        return Array(key[..<(key.count - suffix.count)])
    }

    /// The name of `id` as the arena keeps it (without the suffix).
    private func stored(_ id: UInt32) -> [UInt8] {
        let entry = entries[Int(id)]
        let chunk = chunks[Int(entry.chunk)]
        let start = Int(entry.offset) + Self.headerSize
        return Array(chunk[start..<(start + Int(chunk[Int(entry.offset) + 4]))])
    }

    /// The data stored with `id` (a live name's packed records; empty for the rest).
    func data(of id: UInt32) -> [UInt8] {
        let entry = entries[Int(id)]
        let chunk = chunks[Int(entry.chunk)]
        let at = Int(entry.offset)
        let start = at + Self.headerSize + Int(chunk[at + 4])
        return Array(chunk[start..<(start + Self.u32(chunk, at + 5))])
    }

    /// The numbers of every name held.
    var ids: [UInt32] {
        entries.indices.compactMap { entries[$0].has(Entry.used) ? UInt32($0) : nil }
    }

    /// Bytes held in arena chunks (live records and garbage), for tests and measurements.
    var arenaBytes: Int { chunks.reduce(0) { $0 + $1.count } }
    var garbageBytes: Int { garbage.reduce(0, +) }

    // MARK: - Editing

    /// Adds the name `key` (lower-cased wire form ending with the suffix, not held yet) with `data` and returns
    /// its number.
    mutating func insert(_ key: [UInt8], data: [UInt8] = []) -> UInt32 {
        guard let key = stripped(key), key.count <= 255 else {
            preconditionFailure("a name of the store ends with its suffix and has at most 255 bytes")
        }
        let id: UInt32
        if let reused = freeIDs.popLast() {
            id = reused
            entries[Int(id)] = Entry(flags: Entry.used)
        } else {
            id = UInt32(entries.count)
            entries.append(Entry(flags: Entry.used))
        }
        place(id, key, data: data)
        count += 1
        if count * 2 > slots.count { grow() }
        let mask = slots.count - 1
        var position = home(NameHash.hash(key), mask)
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = id + 1
        return id
    }

    /// Replaces the data stored with `id`.
    mutating func setData(_ id: UInt32, _ data: [UInt8]) {
        let key = stored(id)
        let old = entries[Int(id)]
        place(id, key, data: data)
        discard(chunk: Int(old.chunk), offset: Int(old.offset))
    }

    /// Removes the name `id`; its number may be given to the next name inserted.
    mutating func remove(_ id: UInt32) {
        let key = stored(id)
        let mask = slots.count - 1
        var hole = home(NameHash.hash(key), mask)
        while slots[hole] != id + 1 { hole = (hole + 1) & mask }
        // Backward-shift deletion: move later members of the cluster into the hole when their home allows it.
        var next = hole
        while true {
            next = (next + 1) & mask
            let slot = slots[next]
            if slot == 0 { break }
            let wanted = home(NameHash.hash(stored(slot - 1)), mask)
            // The slot may move to the hole when its home does not lie cyclically in (hole, next].
            let between = hole <= next ? (wanted > hole && wanted <= next) : (wanted > hole || wanted <= next)
            if !between {
                slots[hole] = slot
                hole = next
            }
        }
        slots[hole] = 0
        let entry = entries[Int(id)]
        discard(chunk: Int(entry.chunk), offset: Int(entry.offset))
        entries[Int(id)] = Entry()
        freeIDs.append(id)
        count -= 1
    }

    // MARK: - Internals

    private func home(_ hash: UInt32, _ mask: Int) -> Int {
        // FNV-1a's low bits depend only on the low bits of every step: spread the whole hash before masking.
        Int(truncatingIfNeeded: (UInt64(hash) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    private func nameEquals(_ id: UInt32, _ key: [UInt8]) -> Bool {
        let entry = entries[Int(id)]
        let at = Int(entry.offset)
        return chunks[Int(entry.chunk)].withUnsafeBufferPointer { chunk in
            guard Int(chunk[at + 4]) == key.count else { return false }
            let start = at + Self.headerSize
            for i in 0..<key.count where chunk[start + i] != key[i] { return false }
            return true
        }
    }

    private static func u32(_ bytes: [UInt8], _ at: Int) -> Int {
        Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
    }

    private static func appendU32(_ value: Int, to bytes: inout [UInt8]) {
        bytes.append(UInt8(truncatingIfNeeded: value >> 24))
        bytes.append(UInt8(truncatingIfNeeded: value >> 16))
        bytes.append(UInt8(truncatingIfNeeded: value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    /// Writes a record for `id` at the arena's tail and points its entry there.
    private mutating func place(_ id: UInt32, _ key: [UInt8], data: [UInt8]) {
        let size = Self.headerSize + key.count + data.count
        let target: Int
        var previous = -1
        if size > chunkSize {
            target = newChunk(capacity: size)
        } else {
            // A tail without the chunk's capacity is a copy (of a store shared with another zone value, which
            // the first append copied): appending would grow it by doubling, past the chunk size.
            if tail < 0 || chunks[tail].count + size > chunkSize || chunks[tail].capacity < chunkSize {
                previous = tail
                tail = newChunk(capacity: chunkSize)
            }
            target = tail
        }
        let offset = chunks[target].count
        Self.appendU32(Int(id), to: &chunks[target])
        chunks[target].append(UInt8(key.count))
        Self.appendU32(data.count, to: &chunks[target])
        chunks[target].append(contentsOf: key)
        chunks[target].append(contentsOf: data)
        entries[Int(id)].chunk = UInt32(target)
        entries[Int(id)].offset = UInt32(offset)
        // A chunk that gathered garbage while it was the tail is compacted once it stops being the tail.
        if previous >= 0, garbage[previous] * 2 > chunks[previous].count { compact(previous) }
    }

    private mutating func newChunk(capacity: Int) -> Int {
        var chunk: [UInt8] = []
        chunk.reserveCapacity(capacity)
        if let reused = freeChunks.popLast() {
            chunks[reused] = chunk
            garbage[reused] = 0
            return reused
        }
        chunks.append(chunk)
        garbage.append(0)
        return chunks.count - 1
    }

    /// Counts the record at (`chunk`, `offset`) as garbage; a chunk more than half garbage is compacted away
    /// (the tail once it is wholly garbage or no longer the tail).
    private mutating func discard(chunk: Int, offset: Int) {
        let bytes = chunks[chunk]
        garbage[chunk] += Self.headerSize + Int(bytes[offset + 4]) + Self.u32(bytes, offset + 5)
        guard garbage[chunk] * 2 > bytes.count else { return }
        if chunk == tail {
            guard garbage[chunk] == bytes.count else { return }
            tail = -1
        }
        compact(chunk)
    }

    /// Moves the live records of `chunk` to the tail, then frees it.
    private mutating func compact(_ chunk: Int) {
        let bytes = chunks[chunk]
        var at = 0
        while at < bytes.count {
            let id = Self.u32(bytes, at)
            let nameLength = Int(bytes[at + 4])
            let dataLength = Self.u32(bytes, at + 5)
            let start = at + Self.headerSize
            if id < entries.count, entries[id].has(Entry.used), entries[id].chunk == UInt32(chunk),
               entries[id].offset == UInt32(at) {
                place(UInt32(id), Array(bytes[start..<(start + nameLength)]),
                      data: Array(bytes[(start + nameLength)..<(start + nameLength + dataLength)]))
            }
            at = start + nameLength + dataLength
        }
        chunks[chunk] = []
        garbage[chunk] = 0
        freeChunks.append(chunk)
    }

    private mutating func grow() {
        let capacity = slots.count * 2
        var fresh = [UInt32](repeating: 0, count: capacity)
        let mask = capacity - 1
        for slot in slots where slot != 0 {
            var position = home(NameHash.hash(stored(slot - 1)), mask)
            while fresh[position] != 0 { position = (position + 1) & mask }
            fresh[position] = slot
        }
        slots = fresh
    }
}

/// An array kept in pages of 4,096 elements, grown a page at a time: an `Array` grows by doubling, and at a million
/// elements up to half its room stays unused.
struct PagedArray<Element: Sendable>: Sendable {
    private var pages: [[Element]] = []
    private(set) var count = 0

    var indices: Range<Int> { 0..<count }

    subscript(index: Int) -> Element {
        get { pages[index >> 12][index & 4095] }
        _modify { yield &pages[index >> 12][index & 4095] }
    }

    mutating func append(_ element: Element) {
        if count & 4095 == 0 {
            var page: [Element] = []
            page.reserveCapacity(4096)
            pages.append(page)
        }
        pages[count >> 12].append(element)
        count += 1
    }
}
