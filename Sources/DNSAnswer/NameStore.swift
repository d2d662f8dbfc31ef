import DNSWire

/// Every name of one zone with its bookkeeping, in flat storage: an entry array indexed by a name number, an
/// open-addressing index over the lower-cased wire names, and an arena of byte chunks holding each name and the
/// packed records of a live name.
///
/// A name costs its entry (24 bytes), 5 to 11 bytes of index, and in the arena a 13-byte header, its first label
/// and its data: a name is kept as its first label and its parent's number (names below the apex are stored from
/// the top down, so the parent is always there).
///
/// Arena records are never edited in place: a name whose records change gets a new record at the arena's tail and
/// its old one becomes garbage. A chunk whose garbage passes half its bytes moves its live records to the tail and
/// is freed, so garbage stays bounded.
///
/// Every edit first does all its accounting (the old record counted as garbage, the entry pointed at its new
/// record or cleared) and only then compacts (`settle`): a compaction reads "live" as "an entry points here", so
/// it must never see an entry that is about to move or go, nor free a chunk a later count still refers to.
/// `validate()` checks what must hold between edits.
struct NameStore: Sendable {
    /// 24 bytes (a test holds it there).
    struct Entry: Sendable, Equatable {
        /// Where the name's arena record is: byte offset of its header in chunk `chunk`.
        var offset: UInt32 = 0
        /// How many names sit directly below this one.
        var children: UInt32 = 0
        /// The owner number of a live name; 0 for the rest.
        var owner: UInt32 = 0
        var chunk: UInt16 = 0
        var flags: UInt8 = 0
        /// The SOA TTL of NODATA at this live name, when it has one of its own.
        var negativeTTL: UInt32?

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

    /// The most arena chunks: `Entry.chunk` has 16 bits (64 GiB of 1 MiB chunks).
    static let maxChunks = 1 << 16

    /// By name number. In pages: an `Array` grown by doubling held 1.57 million entries' room for a million names.
    private(set) var entries = PagedArray<Entry>()
    private var freeIDs: [UInt32] = []
    /// 0 for an empty slot, else name number + 1. Kept at most three quarters full: only the compile searches
    /// it (the query path reads the compiled shards), where a miss probes a few more slots.
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
    func negativeTTL(of id: UInt32) -> UInt32? { entries[Int(id)].negativeTTL }

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
        let previous = place(id, label, parent: parent, data: data)
        count += 1
        if count * 4 > slots.count * 3 { grow() }
        let mask = slots.count - 1
        var position = home(NameHash.hash(stripped), mask)
        while slots[position] != 0 { position = (position + 1) & mask }
        slots[position] = id + 1
        settle([previous])
        return id
    }

    /// Replaces the data stored with `id`.
    mutating func setData(_ id: UInt32, _ data: [UInt8]) {
        // The label is copied out, and the slice into its chunk let go, before anything is appended: a slice
        // still holding the tail chunk would make the append copy the whole chunk.
        let label: [UInt8]
        let parent: UInt32
        do {
            let current = record(id)
            label = Array(current.label)
            parent = current.parent
        }
        // The old record is garbage from here on; the chunks are settled once the entry points at the new one.
        let old = Int(entries[Int(id)].chunk)
        discard(chunk: old, offset: Int(entries[Int(id)].offset))
        let previous = place(id, label[...], parent: parent, data: data)
        settle([old, previous])
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
        // Cleared before the chunk is settled: a compaction moves only records an entry points at.
        entries[Int(id)] = Entry()
        freeIDs.append(id)
        count -= 1
        settle([Int(entry.chunk)])
    }

    // MARK: - Checking

    /// What must hold between edits; returns each violation found (none when the store is sound):
    /// - the arena: each chunk's records lie end to end and fill it exactly (no record overlaps another or runs
    ///   past its chunk); a chunk's garbage count is the bytes of its records no entry points at; free chunks are
    ///   empty with no garbage, the tail is not free, and no record sits in a free chunk;
    /// - the entries: every used entry points at the start of a record whose header carries its number; unused
    ///   entries are blank and are exactly the free numbers; `count` is the number of used entries; negative TTL
    ///   indexes are within the table;
    /// - the names: every used name's parent is used (up to the one apex, without cycles) and, with `childCounts`
    ///   (the zone contents keep them; the store only holds them), each name's child count is the number of names
    ///   whose parent it is;
    /// - the index: it is at most 3/4 full, holds every used name exactly once and nothing else, and finding a
    ///   name's own bytes gives back its number (every slot is reachable from its home).
    func validate(childCounts: Bool = true) -> [String] {
        var problems: [String] = []
        let zone = (try? DomainName(wire: suffix).description) ?? "\(suffix)"
        func fail(_ message: String) { if problems.count < 20 { problems.append("name store of \(zone): \(message)") } }
        guard garbage.count == chunks.count else { return ["name store of \(zone): \(garbage.count) garbage counts for \(chunks.count) chunks"] }
        let free = Set(freeChunks)
        if free.count != freeChunks.count { fail("a chunk is listed free twice") }
        for chunk in freeChunks where chunk >= chunks.count || !chunks[chunk].isEmpty || garbage[chunk] != 0 {
            fail("free chunk \(chunk) is not empty or has garbage")
        }
        if tail >= chunks.count || free.contains(tail) { fail("the tail \(tail) is not a chunk in use") }
        // The arena, chunk by chunk: which entries point at a record whose header names them.
        var placed = [Bool](repeating: false, count: entries.count)
        for (chunk, bytes) in chunks.enumerated() where !free.contains(chunk) {
            if bytes.isEmpty { fail("chunk \(chunk) is in use and empty") }
            var at = 0
            var dead = 0
            while at < bytes.count {
                guard at + Self.headerSize <= bytes.count else {
                    fail("chunk \(chunk): a record header at \(at) runs past its \(bytes.count) bytes")
                    break
                }
                let id = Self.u32(bytes, at)
                let size = Self.headerSize + Int(bytes[at + 4]) + Self.u32(bytes, at + 5)
                guard at + size <= bytes.count else {
                    fail("chunk \(chunk): the record at \(at) (\(size) bytes) runs past its \(bytes.count) bytes")
                    break
                }
                if id < entries.count, entries[id].has(Entry.used), Int(entries[id].chunk) == chunk,
                   Int(entries[id].offset) == at {
                    placed[id] = true
                } else {
                    dead += size
                }
                at += size
            }
            if dead != garbage[chunk] {
                fail("chunk \(chunk) counts \(garbage[chunk]) bytes of garbage; \(dead) bytes are records no entry points at")
            }
        }
        var used = 0
        var freeID = [Bool](repeating: false, count: entries.count)
        for id in freeIDs {
            if Int(id) >= entries.count || freeID[Int(id)] { fail("free number \(id) is out of range or listed twice") } else { freeID[Int(id)] = true }
        }
        for id in entries.indices {
            let entry = entries[id]
            if entry.has(Entry.used) {
                used += 1
                if freeID[id] { fail("name \(id) is used and listed free") }
                if !placed[id] { fail("name \(id) points at chunk \(entry.chunk) offset \(entry.offset), where no record of it starts") }
            } else {
                if entry != Entry() { fail("unused entry \(id) is not blank") }
                if !freeID[id] { fail("unused number \(id) is not listed free") }
            }
        }
        if used != count { fail("count is \(count); \(used) entries are used") }
        // Names and the index read the records: only when every used entry points at one of its own.
        guard problems.isEmpty else { return problems }
        var children = [UInt32](repeating: 0, count: entries.count)
        var apexes = 0
        for id in entries.indices where entries[id].has(Entry.used) {
            let parent = record(UInt32(id)).parent
            if parent == Self.noParent {
                apexes += 1
                continue
            }
            guard Int(parent) < entries.count, entries[Int(parent)].has(Entry.used) else {
                fail("name \(id)'s parent \(parent) is not held")
                continue
            }
            children[Int(parent)] += 1
        }
        if apexes > 1 { fail("\(apexes) names have no parent") }
        for id in entries.indices where childCounts && entries[id].has(Entry.used) && entries[id].children != children[id] {
            fail("name \(id) counts \(entries[id].children) children; \(children[id]) names are directly below it")
        }
        guard problems.isEmpty else { return problems }
        if slots.count & (slots.count - 1) != 0 || count * 4 > slots.count * 3 {
            fail("the index has \(slots.count) slots for \(count) names")
        }
        var indexed = [Bool](repeating: false, count: entries.count)
        for slot in slots where slot != 0 {
            let id = Int(slot - 1)
            guard id < entries.count, entries[id].has(Entry.used) else {
                fail("an index slot holds \(id), which is not a used name")
                continue
            }
            if indexed[id] { fail("name \(id) is in the index twice") }
            indexed[id] = true
            // The walk up the parents ends (no cycle) before the name is spelled and looked up.
            var depth = 0
            var current = UInt32(id)
            while depth <= 128, case let parent = record(current).parent, parent != Self.noParent {
                current = parent
                depth += 1
            }
            if depth > 128 {
                fail("name \(id)'s parents loop")
            } else if find(name(of: UInt32(id))) != UInt32(id) {
                fail("finding name \(id) by its own bytes does not give it back")
            }
        }
        for id in entries.indices where entries[id].has(Entry.used) && !indexed[id] {
            fail("name \(id) is not in the index")
        }
        return problems
    }

    /// Damage a test makes on purpose, to see that `validate()` reports it.
    enum Damage {
        case garbageCount, childCount, indexSlot, overlappingRecord
    }

    /// Breaks one invariant (tests only): `validate()` must then report a violation.
    mutating func damageForTesting(_ damage: Damage) {
        switch damage {
        case .garbageCount:
            garbage[tail >= 0 ? tail : 0] += 1
        case .childCount:
            if let id = entries.indices.first(where: { entries[$0].has(Entry.used) }) { entries[id].children += 1 }
        case .indexSlot:
            if let position = slots.firstIndex(where: { $0 != 0 }) { slots[position] = 0 }
        case .overlappingRecord:
            // The last used entry points one byte into its record, as if a record overlapped it.
            if let id = entries.indices.last(where: { entries[$0].has(Entry.used) }) { entries[id].offset += 1 }
        }
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

    /// Writes a record for `id` at the arena's tail and points its entry there. Returns the chunk that stopped
    /// being the tail for it (or -1): the caller settles it once its own accounting is done. Never compacts.
    private mutating func place(_ id: UInt32, _ label: ArraySlice<UInt8>, parent: UInt32, data: [UInt8]) -> Int {
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
        return previous
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

    /// Counts the record at (`chunk`, `offset`) as garbage. Only counts: the caller settles the chunk after it
    /// has pointed the record's entry elsewhere or cleared it.
    private mutating func discard(chunk: Int, offset: Int) {
        let bytes = chunks[chunk]
        garbage[chunk] += Self.headerSize + Int(bytes[offset + 4]) + Self.u32(bytes, offset + 5)
    }

    /// Compacts each of `candidates` (and the tails a compaction fills in turn) that is more than half garbage:
    /// the tail only once it is wholly garbage (it is still being filled). Decided on the chunk as it is now, so a
    /// candidate freed or reused meanwhile is judged by what it holds then; -1 and free chunks are skipped.
    private mutating func settle(_ candidates: [Int]) {
        var pending = candidates
        while let chunk = pending.popLast() {
            guard chunk >= 0, !chunks[chunk].isEmpty, garbage[chunk] * 2 > chunks[chunk].count else { continue }
            if chunk == tail {
                guard garbage[chunk] == chunks[chunk].count else { continue }
                tail = -1
            }
            pending += compact(chunk)
        }
    }

    /// Moves the live records of `chunk` to the tail, then frees it. Returns the chunks that stopped being the
    /// tail meanwhile, for `settle`.
    private mutating func compact(_ chunk: Int) -> [Int] {
        var filled: [Int] = []
        let bytes = chunks[chunk]
        var at = 0
        while at < bytes.count {
            let id = Self.u32(bytes, at)
            let nameLength = Int(bytes[at + 4])
            let dataLength = Self.u32(bytes, at + 5)
            let start = at + Self.headerSize
            if id < entries.count, entries[id].has(Entry.used), entries[id].chunk == UInt16(chunk),
               entries[id].offset == UInt32(at) {
                let previous = place(UInt32(id), bytes[start..<(start + nameLength)],
                                     parent: UInt32(Self.u32(bytes, at + 9)),
                                     data: Array(bytes[(start + nameLength)..<(start + nameLength + dataLength)]))
                if previous >= 0 { filled.append(previous) }
            }
            at = start + nameLength + dataLength
        }
        chunks[chunk] = []
        garbage[chunk] = 0
        freeChunks.append(chunk)
        return filled
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
