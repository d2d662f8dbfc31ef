/// Every name of one zone with its bookkeeping, in flat storage: an entry array indexed by a name number, an
/// open-addressing index over the lower-cased wire names, and an arena of byte chunks holding each name and the
/// packed records of a live name.
///
/// At scale (a million live names, DESIGN §7) a `[DomainName: Entry]` dictionary with one heap array per name and
/// one per record set cost about 220 bytes a name: dictionary slots, two allocation headers and malloc rounding.
/// Here a name costs its entry (16 bytes), 5 to 11 bytes of index, and in the arena a 13-byte header, its first
/// label and its data: a name is kept as its first label and its parent's number (names below the apex are
/// stored from the top down, so the parent is always there), which halved the bytes names took.
///
/// Arena records are never edited in place: a name whose records change gets a new record at the arena's tail and
/// its old one becomes garbage. A chunk whose garbage passes half its bytes moves its live records to the tail and
/// is freed, so garbage stays bounded and no step ever copies more than one chunk.
struct NameStore: Sendable {
    /// 16 bytes (a test holds it there): at a million names each 4 bytes is about 13 bytes per endpoint.
    struct Entry: Sendable, Equatable {
        /// Where the name's arena record is: byte offset of its header in chunk `chunk`.
        var offset: UInt32 = 0
        /// How many names sit directly below this one.
        var children: UInt32 = 0
        /// The owner number of a live name; 0 for the rest.
        var owner: UInt32 = 0
        var chunk: UInt16 = 0
        var flags: UInt8 = 0
        /// 1 + the index in the store's `negativeTTLs` of the SOA TTL of NODATA at this live name; 0 for none.
        /// Live names share one or two values (the configured one), so a byte stands for the four of a TTL.
        var negativeTTLIndex: UInt8 = 0

        static let used: UInt8 = 1
        static let live: UInt8 = 2
        /// The record's data is a `PackedRRsets`.
        static let packed: UInt8 = 8

        func has(_ flag: UInt8) -> Bool { flags & flag != 0 }
        mutating func set(_ flag: UInt8, _ on: Bool) { flags = on ? flags | flag : flags & ~flag }
    }

    /// A chunk's size; a record larger than this gets a chunk of its own.
    let chunkSize: Int
    /// Header of an arena record: name number (4 bytes), label length (1), data length (4), parent number (4).
    static let headerSize = 13
    /// The parent number of the apex (the name equal to the suffix).
    static let noParent = UInt32.max

    /// The distinct negative TTLs of live names (`Entry.negativeTTLIndex`); at most 255.
    private var negativeTTLs: [UInt32] = []
    /// The most arena chunks: `Entry.chunk` has 16 bits (64 GiB of 1 MiB chunks).
    static let maxChunks = 1 << 16

    /// By name number. In pages: an `Array` grown by doubling held 1.57 million entries' room for a million names.
    private(set) var entries = PagedArray<Entry>()
    private var freeIDs: [UInt32] = []
    /// 0 for an empty slot, else name number + 1. Kept at most three quarters full: half full, the index of a
    /// million names took 42 bytes per endpoint at 100,000 services (heaptrack, issue 3), and only the compile
    /// searches it (the query path reads the compiled shards), where a miss probes a few more slots.
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
        let length = key.count - suffix.count
        guard length >= 0, key[length...].elementsEqual(suffix) else { return nil }
        // Compared in place (no copy of the key without its suffix): every compile step asks this.
        return key.withUnsafeBufferPointer { key in
            var hash = NameHash.seed
            for i in 0..<length { hash = NameHash.mix(hash, key[i]) }
            let mask = slots.count - 1
            var position = home(hash, mask)
            while true {
                let slot = slots[position]
                if slot == 0 { return nil }
                if nameEquals(slot - 1, key, length) { return slot - 1 }
                position = (position + 1) & mask
            }
        }
    }

    subscript(id: UInt32) -> Entry {
        get { entries[Int(id)] }
        _modify { yield &entries[Int(id)] }
    }

    /// The SOA TTL of NODATA at the live name `id`, when it has one.
    func negativeTTL(of id: UInt32) -> UInt32? {
        let index = entries[Int(id)].negativeTTLIndex
        return index == 0 ? nil : negativeTTLs[Int(index) - 1]
    }

    /// Gives `id` the negative TTL `ttl`. False when 255 other values are in use, which leaves the name's TTL as
    /// it was: live names take the one value of the configuration, so only a caller making up values reaches it.
    mutating func setNegativeTTL(_ ttl: UInt32, of id: UInt32) -> Bool {
        if let index = negativeTTLs.firstIndex(of: ttl) {
            entries[Int(id)].negativeTTLIndex = UInt8(index + 1)
            return true
        }
        if negativeTTLs.count == Int(UInt8.max) {
            // Values no name uses any more are dropped, and the indexes of the rest renumbered.
            var used = [Bool](repeating: false, count: negativeTTLs.count)
            for i in entries.indices where entries[i].negativeTTLIndex != 0 { used[Int(entries[i].negativeTTLIndex) - 1] = true }
            var renumbered = [UInt8](repeating: 0, count: negativeTTLs.count)
            var kept: [UInt32] = []
            for (index, value) in negativeTTLs.enumerated() where used[index] {
                kept.append(value)
                renumbered[index] = UInt8(kept.count)
            }
            guard kept.count < Int(UInt8.max) else { return false }
            for i in entries.indices where entries[i].negativeTTLIndex != 0 {
                entries[i].negativeTTLIndex = renumbered[Int(entries[i].negativeTTLIndex) - 1]
            }
            negativeTTLs = kept
        }
        negativeTTLs.append(ttl)
        entries[Int(id)].negativeTTLIndex = UInt8(negativeTTLs.count)
        return true
    }

    /// The lower-cased wire name of `id`.
    func name(of id: UInt32) -> [UInt8] { stored(id) + suffix }

    /// `key` without the suffix, or nil when it does not end with it.
    private func stripped(_ key: [UInt8]) -> [UInt8]? {
        guard key.count >= suffix.count, key[(key.count - suffix.count)...].elementsEqual(suffix) else { return nil }
        return Array(key[..<(key.count - suffix.count)])
    }

    /// The first label (without its length byte) and the parent number of `id`.
    private func record(_ id: UInt32) -> (label: ArraySlice<UInt8>, parent: UInt32) {
        let entry = entries[Int(id)]
        let chunk = chunks[Int(entry.chunk)]
        let at = Int(entry.offset)
        let start = at + Self.headerSize
        return (chunk[start..<(start + Int(chunk[at + 4]))], UInt32(Self.u32(chunk, at + 9)))
    }

    /// The name of `id` without the suffix, made from its labels up to the apex.
    private func stored(_ id: UInt32) -> [UInt8] {
        var name: [UInt8] = []
        var current = id
        while true {
            let (label, parent) = record(current)
            if parent == Self.noParent { return name }
            name.append(UInt8(label.count))
            name += label
            current = parent
        }
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
    /// Where the tail chunk's bytes are (for tests: an append that copies the chunk moves them; see `setData`).
    var tailAddress: UnsafeRawPointer? {
        tail < 0 ? nil : chunks[tail].withUnsafeBytes { $0.baseAddress }
    }

    // MARK: - Editing

    /// Adds the name `key` (lower-cased wire form ending with the suffix, not held yet, its parent held unless it
    /// is the suffix itself) with `data` and returns its number.
    mutating func insert(_ key: [UInt8], data: [UInt8] = []) -> UInt32 {
        guard let stripped = stripped(key), stripped.count <= 255 else {
            preconditionFailure("a name of the store ends with its suffix and has at most 255 bytes")
        }
        var label: ArraySlice<UInt8> = []
        var parent = Self.noParent
        if !stripped.isEmpty {
            let length = Int(stripped[0])
            label = stripped[1..<(1 + length)]
            guard let found = find(Array(key[(1 + length)...])) else {
                preconditionFailure("a name's parent is stored before it")
            }
            parent = found
        }
        let id: UInt32
        if let reused = freeIDs.popLast() {
            id = reused
            entries[Int(id)] = Entry(flags: Entry.used)
        } else {
            id = UInt32(entries.count)
            entries.append(Entry(flags: Entry.used))
        }
        place(id, label, parent: parent, data: data)
        count += 1
        if count * 4 > slots.count * 3 { grow() }
        let mask = slots.count - 1
        var position = home(NameHash.hash(stripped), mask)
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = id + 1
        return id
    }

    /// Replaces the data stored with `id`.
    mutating func setData(_ id: UInt32, _ data: [UInt8]) {
        // The label is copied out, and the slice into its chunk let go, before anything is appended: a slice
        // still holding the tail chunk made the append copy the whole chunk (heaptrack: 1 MiB per call).
        let label: [UInt8]
        let parent: UInt32
        do {
            let current = record(id)
            label = Array(current.label)
            parent = current.parent
        }
        let old = entries[Int(id)]
        place(id, label[...], parent: parent, data: data)
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

    /// True when the name of `id` is the first `length` bytes of `key` (the name without the suffix): label by
    /// label, up the parents.
    private func nameEquals(_ id: UInt32, _ key: UnsafeBufferPointer<UInt8>, _ length: Int) -> Bool {
        var current = id
        var at = 0
        while true {
            let entry = entries[Int(current)]
            let step: UInt32? = chunks[Int(entry.chunk)].withUnsafeBufferPointer { chunk in
                let offset = Int(entry.offset)
                let parent = UInt32(chunk[offset + 9]) << 24 | UInt32(chunk[offset + 10]) << 16
                    | UInt32(chunk[offset + 11]) << 8 | UInt32(chunk[offset + 12])
                // The apex: equal when the key is used up too (noParent says so, nil says "no").
                if parent == Self.noParent { return at == length ? Self.noParent : nil }
                let labelLength = Int(chunk[offset + 4])
                guard at < length, Int(key[at]) == labelLength, at + 1 + labelLength <= length else { return nil }
                let start = offset + Self.headerSize
                for i in 0..<labelLength where chunk[start + i] != key[at + 1 + i] { return nil }
                at += 1 + labelLength
                return parent
            }
            guard let step else { return false }
            if step == Self.noParent { return true }
            current = step
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
    private mutating func place(_ id: UInt32, _ label: ArraySlice<UInt8>, parent: UInt32, data: [UInt8]) {
        let size = Self.headerSize + label.count + data.count
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
        chunks[target].append(UInt8(label.count))
        Self.appendU32(data.count, to: &chunks[target])
        Self.appendU32(Int(parent), to: &chunks[target])
        chunks[target].append(contentsOf: label)
        chunks[target].append(contentsOf: data)
        entries[Int(id)].chunk = UInt16(target)
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
        precondition(chunks.count < Self.maxChunks, "the name store's arena holds at most 64 GiB")
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
            if id < entries.count, entries[id].has(Entry.used), entries[id].chunk == UInt16(chunk),
               entries[id].offset == UInt32(at) {
                place(UInt32(id), bytes[start..<(start + nameLength)], parent: UInt32(Self.u32(bytes, at + 9)),
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
