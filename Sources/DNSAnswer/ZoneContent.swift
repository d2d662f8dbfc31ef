public import DNSWire
public import MCDNSModel

/// One zone arranged for compiling: RRsets by owner, empty non-terminals, and the delegation points.
/// Built once per compile; never touched on the query path.
///
/// It holds every live name too (a million at scale, DESIGN §7), so a name costs one entry of a flat `NameStore`:
/// its lower-cased name and RRsets (packed, for live names) in an arena, the count of names directly below it, and
/// its flags. `validate()` checks the store and that every live name's records unpack.
public struct ZoneContent: Sendable {
    public let origin: DomainName
    public let soa: ResourceRecord
    /// Names below the apex that carry NS records: zone cuts.
    public private(set) var cuts: Set<DomainName>
    /// True when the zone's SOA serial follows the table's serial (zones with live records).
    public var followsTableSerial: Bool
    /// Requester-specific RRsets by name and requester index (the table's cluster list).
    public private(set) var variants: [DomainName: [Int: [RRType: [ResourceRecord]]]] = [:]
    /// The negative TTL of known services (the last one set): the shared NODATA answer of live names uses it.
    public private(set) var serviceNegativeTTL: UInt32?

    /// Every name that exists in the zone (RFC 4592 §2.2.2), with its child count, flags and, for a live name,
    /// its records packed; an empty non-terminal has no RRsets.
    private var store: NameStore
    /// RRsets as the zone file gave them (their owners keep the file's case). Live names keep theirs packed in
    /// the store, unless they do not fit that form.
    private var fileRecords: [DomainName: [RRType: [ResourceRecord]]] = [:]

    public init(zone: Zone, followsTableSerial: Bool = false) throws(CompileError) {
        try self.init(zone: zone, followsTableSerial: followsTableSerial, chunkSize: 1 << 20)
    }

    /// `chunkSize`: the store's arena chunk (tests use small ones, so that compaction runs often).
    init(zone: Zone, followsTableSerial: Bool = false, chunkSize: Int) throws(CompileError) {
        guard let soa = zone.soa else { throw CompileError.missingSOA(zone.origin) }
        self.origin = zone.origin
        self.soa = soa
        self.followsTableSerial = followsTableSerial
        self.cuts = []
        self.store = NameStore(suffix: zone.origin.key, chunkSize: chunkSize)
        for record in zone.records { add(record) }
    }

    // MARK: - Reading

    private func entry(_ name: DomainName) -> NameStore.Entry? { store.find(name.key).map { store[$0] } }

    /// True when `name` exists (with records, or as an empty non-terminal).
    public func contains(_ name: DomainName) -> Bool { store.find(name.key) != nil }

    /// The RRsets at `name`; empty for an empty non-terminal, nil when the name does not exist.
    public func rrsets(at name: DomainName) -> [RRType: [ResourceRecord]]? {
        guard let id = store.find(name.key) else { return nil }
        if store[id].has(NameStore.Entry.packed) {
            // Packed only when the live name was lower-case: the lower-cased `name` is exactly the name it was
            // made for (and needs no walk up the store's parents to spell).
            let owner = name.wire == name.key ? name : (try? DomainName(wire: name.key)) ?? name
            return PackedRRsets(bytes: store.data(of: id)).unpacked(owner: owner)
        }
        return fileRecords[name] ?? [:]
    }

    /// The number its caller gave the live name `name` (see `add(_:requesterIndex:owner:)`), if it is live.
    public func owner(of name: DomainName) -> UInt32? {
        guard let entry = entry(name), entry.has(NameStore.Entry.live) else { return nil }
        return entry.owner
    }

    /// The store number of `name`: a caller may keep it instead of the name (see `liveName(_:)`).
    public func id(of name: DomainName) -> UInt32? { store.find(name.key) }

    /// The live name numbered `id` and its owner's number, when that number is a live name now.
    public func liveName(_ id: UInt32) -> (name: DomainName, owner: UInt32)? {
        guard Int(id) < store.entries.count, store[id].has(NameStore.Entry.live),
              let name = try? DomainName(wire: store.name(of: id))
        else { return nil }
        return (name, store[id].owner)
    }

    /// Every name of the zone (lower-cased), in no particular order.
    public var names: [DomainName] {
        store.ids.compactMap { try? DomainName(wire: store.name(of: $0)) }
    }

    /// True when the name was made from live records (not from the zone file).
    public func isLive(_ name: DomainName) -> Bool { entry(name)?.has(NameStore.Entry.live) == true }

    /// The SOA TTL of NODATA at `name`, when it is a known service's name with one of its own.
    public func negativeTTL(at name: DomainName) -> UInt32? {
        store.find(name.key).flatMap { store.negativeTTL(of: $0) }
    }

    /// The names from the zone file with their RRsets (live names left out).
    public var fileNodes: [(name: DomainName, rrsets: [RRType: [ResourceRecord]])] {
        fileRecords.compactMap { name, rrsets in isLive(name) ? nil : (name, rrsets) }
    }

    /// True when any name has records of `type`.
    public func hasRecords(ofType type: RRType) -> Bool {
        fileRecords.values.contains { $0[type] != nil }
            || store.ids.contains { store[$0].has(NameStore.Entry.packed)
                && PackedRRsets(bytes: store.data(of: $0)).contains(type) }
    }

    // MARK: - Editing

    /// Adds a record (and the empty non-terminals above it). Records outside the zone are ignored.
    public mutating func add(_ record: ResourceRecord) {
        guard record.owner.isSubdomain(of: origin) else { return }
        ensureNode(record.owner)
        var set = fileRecords[record.owner]?[record.type] ?? []
        if !set.contains(where: { $0.rdata == record.rdata }) { set.append(record) }
        fileRecords[record.owner, default: [:]][record.type] = set
        if record.type == .ns && record.owner != origin { cuts.insert(record.owner) }
    }

    /// Makes `name` exist, with the empty non-terminals between it and the apex. Returns the names it created
    /// (from `name` up) and the number of `name`. If `name` is made here, it gets `data` with it (one arena record,
    /// where setting it afterwards left one behind as garbage).
    @discardableResult
    private mutating func ensureNode(_ name: DomainName, data: [UInt8] = []) -> (created: [DomainName], id: UInt32) {
        if let found = store.find(name.key) { return ([], found) }
        // The missing names from `name` up; they are stored from the top down (the store keeps a name as its first
        // label and its parent's number, so the parent comes first).
        var missing: [DomainName] = [name]
        var current = name
        while current != origin, let parent = current.parent, store.find(parent.key) == nil {
            missing.append(parent)
            current = parent
        }
        var id: UInt32 = 0
        for (index, made) in missing.enumerated().reversed() {
            id = store.insert(made.key, data: index == 0 ? data : [])
            // Every name made here counts as a child of its parent, which exists by now.
            if made != origin, let parent = made.parent, let parentID = store.find(parent.key) {
                store[parentID].children += 1
            }
        }
        return (missing, id)
    }

    /// Removes a live name and any empty non-terminal left without children. Returns the names that ceased to exist.
    @discardableResult
    public mutating func removeLive(_ name: DomainName) -> [DomainName] {
        guard let id = store.find(name.key), store[id].has(NameStore.Entry.live) else { return [] }
        variants[name] = nil
        fileRecords[name] = nil
        // What stays is an empty non-terminal, while names below it remain.
        store[id] = NameStore.Entry(offset: store[id].offset, children: store[id].children, chunk: store[id].chunk,
                                    flags: NameStore.Entry.used)
        store.setData(id, [])
        var gone: [DomainName] = []
        var current = name
        while current != origin, let here = store.find(current.key), store[here].children == 0,
              !store[here].has(NameStore.Entry.live), fileRecords[current]?.isEmpty ?? true {
            store.remove(here)
            gone.append(current)
            guard let parent = current.parent else { break }
            if let parentID = store.find(parent.key) { store[parentID].children -= 1 }
            current = parent
        }
        return gone
    }

    /// Adds a live name made by `owner` (any number but 0: `owner(of:)` gives it back). A name the zone file
    /// already fills is left as the file says: returns nil. Otherwise returns the names that came into existence
    /// with it (the name and any new empty non-terminals above it).
    @discardableResult
    public mutating func add(_ live: LiveName, requesterIndex: [ClusterID: Int], owner: UInt32 = 1) -> [DomainName]? {
        guard live.name.isSubdomain(of: origin) else { return nil }
        if !isLive(live.name), fileRecords[live.name]?.isEmpty == false { return nil }
        let wasLive = isLive(live.name)
        // Live RRsets come deduplicated: set them whole (adding record by record is quadratic in RRset size).
        // A second live name of the same owner adds its types to the first one's.
        var rrsets = wasLive ? self.rrsets(at: live.name) ?? [:] : [:]
        for (type, records) in live.rrsets where !records.isEmpty { rrsets[type] = records }
        // Packed only for a lower-case name (what the store keeps): its records then come back with their owner.
        let packed = live.name.wire == live.name.key ? PackedRRsets(rrsets, owner: live.name) : nil
        let (created, id) = ensureNode(live.name, data: packed?.bytes ?? [])
        let data = packed?.bytes ?? []
        if created.isEmpty, store.data(of: id) != data { store.setData(id, data) }
        store[id].set(NameStore.Entry.packed, packed != nil)
        fileRecords[live.name] = packed == nil && !rrsets.isEmpty ? rrsets : nil
        store[id].set(NameStore.Entry.live, true)
        store[id].owner = owner
        if let ttl = live.negativeTTL {
            store[id].negativeTTL = ttl
            serviceNegativeTTL = ttl
        }
        if rrsets[.ns] != nil && live.name != origin { cuts.insert(live.name) }
        for (cluster, rrsets) in live.variants {
            guard let index = requesterIndex[cluster] else { continue }
            variants[live.name, default: [:]][index] = rrsets
        }
        return created
    }

    // MARK: - Checking

    /// What must hold between edits; returns each violation found (none when the zone is sound): the store's own
    /// invariants (`NameStore.validate()`); the apex is held; a packed name is live, its data unpacks to RRsets
    /// of its own name and it has no file records beside them; a live name has a nonzero owner, the rest owner 0
    /// and no data; a name neither live nor in the file is an empty non-terminal with names below it (the apex
    /// aside); every file record's and variant's name and every cut is held, and every cut has NS records.
    public func validate() -> [String] {
        var problems = store.validate()
        guard problems.isEmpty else { return problems }
        func fail(_ message: String) { if problems.count < 20 { problems.append("zone \(origin): \(message)") } }
        guard let apex = store.find(origin.key) else { return ["zone \(origin): the apex is not held"] }
        for id in store.ids {
            let entry = store[id]
            let spelled = store.name(of: id)
            let name = (try? DomainName(wire: spelled)).map(String.init(describing:)) ?? "name \(id)"
            let live = entry.has(NameStore.Entry.live)
            if entry.has(NameStore.Entry.packed) {
                if !live { fail("\(name) has packed records and is not live") }
                if !PackedRRsets(bytes: store.data(of: id)).isWellFormed { fail("\(name)'s packed records do not parse") }
                if let owner = try? DomainName(wire: spelled), fileRecords[owner] != nil {
                    fail("\(name) has packed records and file records")
                }
            } else if !store.data(of: id).isEmpty {
                fail("\(name) has data without the packed flag")
            }
            if live != (entry.owner != 0) { fail("\(name): live \(live) with owner \(entry.owner)") }
            if !live, id != apex, entry.children == 0, let owner = try? DomainName(wire: spelled),
               fileRecords[owner]?.isEmpty ?? true {
                fail("\(name) is neither live nor in the zone file and has no names below it")
            }
        }
        for name in fileRecords.keys where !contains(name) { fail("file records of \(name), which is not held") }
        for name in variants.keys where !isLive(name) { fail("variants of \(name), which is not a live name") }
        for cut in cuts where (rrsets(at: cut)?[.ns] ?? []).isEmpty { fail("cut \(cut) has no NS records") }
        return problems
    }

    /// Breaks one invariant of the zone's store (tests only): `validate()` must then report it.
    mutating func damageForTesting(_ damage: NameStore.Damage) { store.damageForTesting(damage) }

    /// The topmost zone cut at or above `name` (but below the apex), if any.
    public func cut(atOrAbove name: DomainName) -> DomainName? {
        guard !cuts.isEmpty else { return nil }
        var found: DomainName? = nil
        var current = name
        while current != origin {
            if cuts.contains(current) { found = current }
            guard let parent = current.parent else { break }
            current = parent
        }
        return found
    }

    /// The SOA with `serial` in place of the file's serial (for zones that follow the table serial).
    func soa(serial: UInt32) -> ResourceRecord {
        guard followsTableSerial, soa.rdata.count >= 20 else { return soa }
        var copy = soa
        let at = copy.rdata.count - 20
        copy.rdata[at] = UInt8(serial >> 24)
        copy.rdata[at + 1] = UInt8((serial >> 16) & 0xFF)
        copy.rdata[at + 2] = UInt8((serial >> 8) & 0xFF)
        copy.rdata[at + 3] = UInt8(serial & 0xFF)
        return copy
    }

    /// The SOA a transfer of this zone starts and ends with: the table's `serial` for a zone with live names,
    /// the file's otherwise.
    public func transferSOA(serial: UInt32) -> ResourceRecord { soa(serial: serial) }

    /// Every RRset of the zone except the apex SOA, in the requester-independent (global) form, names in
    /// canonical order (RFC 4034 §6.1) and types by number within a name: what an AXFR carries between its SOAs.
    /// Requester variants (§4.3) are left out: a secondary answers every requester the same.
    public func transferRecords() -> [ResourceRecord] {
        transferNames().flatMap(transferRecords(at:))
    }

    /// The zone's names in the order a transfer sends them (RFC 4034 §6.1 canonical order); a transfer then asks
    /// `transferRecords(at:)` name by name, so its first message does not wait for the whole zone's records.
    public func transferNames() -> [DomainName] {
        // One sort key per name (labels from the right, each ended by a zero byte), made once: comparing names
        // label by label allocated in every comparison, seconds at a million names.
        names.map { (key: Self.canonicalKey($0.key), name: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
            .map(\.name)
    }

    /// The RRsets a transfer carries at `name`, types by number, without the apex SOA.
    public func transferRecords(at name: DomainName) -> [ResourceRecord] {
        guard let rrsets = rrsets(at: name) else { return [] }
        var records: [ResourceRecord] = []
        // A generated name's weighted picks and answer limit steer our own answers only: no secondary sees them.
        let live = isLive(name)
        for type in rrsets.keys.sorted()
        where !(type == .soa && name == origin) && !(live && TableBuilder.carriesNoAnswer(type)) {
            records += rrsets[type]!
        }
        return records
    }

    /// RFC 4034 §6.1 order as bytes: the lower-cased labels from the right, each followed by a zero byte, so that
    /// byte order is label order and a name sorts before the names below it.
    static func canonicalKey(_ wire: [UInt8]) -> [UInt8] {
        var starts: [Int] = []
        var at = 0
        while at < wire.count, wire[at] != 0 {
            starts.append(at)
            at += 1 + Int(wire[at])
        }
        var key: [UInt8] = []
        key.reserveCapacity(wire.count)
        for start in starts.reversed() {
            let end = min(wire.count, start + 1 + Int(wire[start]))
            key += wire[(start + 1)..<end]
            key.append(0)
        }
        return key
    }

    /// SOA MINIMUM: the last 32-bit field of the SOA RDATA.
    var soaMinimum: UInt32 {
        let r = soa.rdata
        guard r.count >= 4 else { return 0 }
        return r[(r.count - 4)...].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// A live name's RRsets in one byte array: per RRset its type, TTL and record count, then per record the offsets
/// of the names inside its RDATA that may be compressed, and the RDATA. Three A records take 29 bytes here (39 with
/// a type and TTL per record), against about 300 as a dictionary of arrays of `ResourceRecord` (each with its own
/// RDATA array). Unpacked only when a name is compiled.
public struct PackedRRsets: Sendable, Equatable {
    let bytes: [UInt8]

    /// Records packed earlier (the bytes of another `PackedRRsets`).
    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Packs `rrsets`, or nil when they do not fit this form (a record owned by another name or spelled in
    /// another case, TTLs that differ inside an RRset, an RDATA over 65,535 bytes, more than 255 compressible
    /// names in one record, more than 65,535 records in one RRset).
    init?(_ rrsets: [RRType: [ResourceRecord]], owner: DomainName) {
        var bytes: [UInt8] = []
        // Exactly the size needed: grown by appends, the array kept up to twice that.
        bytes.reserveCapacity(rrsets.values.reduce(0) { size, set in
            set.reduce(size + 8) { $0 + 3 + 2 * $1.compressibleNames.count + $1.rdata.count }
        })
        for type in rrsets.keys.sorted() {
            let set = rrsets[type]!
            guard let ttl = set.first?.ttl, set.count <= 0xFFFF else {
                if set.isEmpty { continue }
                return nil
            }
            Self.append(type.rawValue, to: &bytes)
            bytes += [UInt8(ttl >> 24), UInt8(ttl >> 16 & 0xFF), UInt8(ttl >> 8 & 0xFF), UInt8(ttl & 0xFF)]
            Self.append(UInt16(set.count), to: &bytes)
            for record in set {
                guard record.owner.wire == owner.wire, record.ttl == ttl, record.rdata.count <= 0xFFFF,
                      record.compressibleNames.count <= 0xFF,
                      record.compressibleNames.allSatisfy({ (0...0xFFFF).contains($0) })
                else { return nil }
                bytes.append(UInt8(record.compressibleNames.count))
                for offset in record.compressibleNames { Self.append(UInt16(offset), to: &bytes) }
                Self.append(UInt16(record.rdata.count), to: &bytes)
                bytes += record.rdata
            }
        }
        self.bytes = bytes
    }

    private static func append(_ value: UInt16, to bytes: inout [UInt8]) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }

    /// Calls `body` with each record's type, TTL, compressible name offsets and RDATA range.
    private func forEach(_ body: (RRType, UInt32, [Int], Range<Int>) -> Void) {
        var at = 0
        func u16(_ i: Int) -> Int { Int(bytes[i]) << 8 | Int(bytes[i + 1]) }
        while at < bytes.count {
            let type = RRType(UInt16(u16(at)))
            let ttl = UInt32(bytes[at + 2]) << 24 | UInt32(bytes[at + 3]) << 16 | UInt32(bytes[at + 4]) << 8
                | UInt32(bytes[at + 5])
            let count = u16(at + 6)
            at += 8
            for _ in 0..<count {
                let names = Int(bytes[at])
                at += 1
                var offsets: [Int] = []
                for _ in 0..<names {
                    offsets.append(u16(at))
                    at += 2
                }
                let length = u16(at)
                at += 2
                body(type, ttl, offsets, at..<(at + length))
                at += length
            }
        }
    }

    /// True when the bytes are RRsets as `init(_:owner:)` writes them, each field within the bytes and ending
    /// exactly at their end (what `forEach` reads without checking).
    var isWellFormed: Bool {
        var at = 0
        func u16(_ i: Int) -> Int? { i + 2 <= bytes.count ? Int(bytes[i]) << 8 | Int(bytes[i + 1]) : nil }
        while at < bytes.count {
            guard at + 8 <= bytes.count, let count = u16(at + 6), count > 0 else { return false }
            at += 8
            for _ in 0..<count {
                guard at < bytes.count else { return false }
                at += 1 + 2 * Int(bytes[at])
                guard let length = u16(at), at + 2 + length <= bytes.count else { return false }
                at += 2 + length
            }
        }
        return true
    }

    /// The RRsets again, each record owned by `owner`.
    func unpacked(owner: DomainName) -> [RRType: [ResourceRecord]] {
        var result: [RRType: [ResourceRecord]] = [:]
        forEach { type, ttl, offsets, rdata in
            result[type, default: []].append(ResourceRecord(owner: owner, type: type, ttl: ttl,
                                                            rdata: Array(bytes[rdata]), compressibleNames: offsets))
        }
        return result
    }

    func contains(_ type: RRType) -> Bool {
        var found = false
        forEach { recordType, _, _, _ in found = found || recordType == type }
        return found
    }
}

/// Why a table could not be compiled. The old table keeps serving when this is thrown.
public enum CompileError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingSOA(DomainName)
    case duplicateZone(DomainName)
    case answerTooLarge(DomainName, RRType)
    case missingZone(DomainName, purpose: String)
    case tooManyTypes(DomainName, Int)
    case tooManyZones(Int)

    public var description: String {
        switch self {
        case .missingSOA(let zone): return "zone \(zone) has no SOA record"
        case .duplicateZone(let zone): return "zone \(zone) is loaded twice: keep one file per zone"
        case .answerTooLarge(let name, let type): return "the answer for \(name) \(type) does not fit in 65535 bytes"
        case .missingZone(let zone, let purpose):
            return "no zone file for \(zone) (the \(purpose)): add \(zone)zone to zonesDir with its SOA and NS records"
        case .tooManyTypes(let name, let count):
            return "\(name) has records of \(count) types; a name may have at most \(NodeEntry.maxTypes): remove some"
        case .tooManyZones(let count):
            return "\(count) zones are served and the names of more than \(OriginEntry.maxOrigins) of them fell into one "
                + "part of the answer table: serve fewer zones"
        }
    }
}
