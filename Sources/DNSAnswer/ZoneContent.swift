public import DNSWire
public import MCDNSModel

/// One zone arranged for compiling: RRsets by owner, empty non-terminals, and the delegation points.
/// Built once per compile; never touched on the query path.
public struct ZoneContent: Sendable {
    public let origin: DomainName
    public let soa: ResourceRecord
    /// Every name that exists in the zone (RFC 4592 §2.2.2), with its RRsets; empty non-terminals map to `[:]`.
    public private(set) var nodes: [DomainName: [RRType: [ResourceRecord]]]
    /// Names below the apex that carry NS records: zone cuts.
    public private(set) var cuts: Set<DomainName>
    /// True when the zone's SOA serial follows the table's serial (zones with live records).
    public var followsTableSerial: Bool
    /// Requester-specific RRsets by name and requester index (the table's cluster list).
    public private(set) var variants: [DomainName: [Int: [RRType: [ResourceRecord]]]] = [:]
    /// NODATA at these names carries this SOA TTL instead of the SOA minimum (known services).
    public private(set) var negativeTTLs: [DomainName: UInt32] = [:]
    /// Names made from live records (the rest came from the zone file).
    public private(set) var liveNames: Set<DomainName> = []

    public init(zone: Zone, followsTableSerial: Bool = false) throws(CompileError) {
        guard let soa = zone.soa else { throw CompileError.missingSOA(zone.origin) }
        self.origin = zone.origin
        self.soa = soa
        self.followsTableSerial = followsTableSerial
        self.nodes = [:]
        self.cuts = []
        for record in zone.records { add(record) }
    }

    /// How many names sit directly below each name: an empty non-terminal lives while this is above zero.
    private var children: [DomainName: Int] = [:]

    /// Adds a record (and the empty non-terminals above it). Records outside the zone are ignored.
    public mutating func add(_ record: ResourceRecord) {
        guard record.owner.isSubdomain(of: origin) else { return }
        ensureNode(record.owner)
        var set = nodes[record.owner]?[record.type] ?? []
        if !set.contains(where: { $0.rdata == record.rdata }) { set.append(record) }
        nodes[record.owner]?[record.type] = set
        if record.type == .ns && record.owner != origin { cuts.insert(record.owner) }
    }

    /// Makes `name` exist, with the empty non-terminals between it and the apex. Returns the names it created.
    @discardableResult
    private mutating func ensureNode(_ name: DomainName) -> [DomainName] {
        var created: [DomainName] = []
        var current = name
        while nodes[current] == nil {
            nodes[current] = [:]
            created.append(current)
            guard current != origin, let parent = current.parent else { break }
            children[parent, default: 0] += 1
            current = parent
        }
        return created
    }

    /// Removes a live name and any empty non-terminal left without children. Returns the names that ceased to exist.
    @discardableResult
    public mutating func removeLive(_ name: DomainName) -> [DomainName] {
        guard liveNames.remove(name) != nil else { return [] }
        negativeTTLs[name] = nil
        variants[name] = nil
        nodes[name] = [:]
        var gone: [DomainName] = []
        var current = name
        while current != origin, nodes[current]?.isEmpty == true, children[current, default: 0] == 0,
              !liveNames.contains(current) {
            nodes[current] = nil
            gone.append(current)
            guard let parent = current.parent else { break }
            children[parent, default: 0] -= 1
            if children[parent] == 0 { children[parent] = nil }
            current = parent
        }
        return gone
    }

    /// Adds a live name. A name the zone file already fills is left as the file says: returns nil. Otherwise
    /// returns the names that came into existence with it (the name and any new empty non-terminals above it).
    @discardableResult
    public mutating func add(_ live: LiveName, requesterIndex: [ClusterID: Int]) -> [DomainName]? {
        guard live.name.isSubdomain(of: origin) else { return nil }
        if let existing = nodes[live.name], !existing.isEmpty, !liveNames.contains(live.name) { return nil }
        liveNames.insert(live.name)
        let created = ensureNode(live.name)
        // Live RRsets come deduplicated: set them whole (adding record by record is quadratic in RRset size).
        for (type, records) in live.rrsets where !records.isEmpty {
            nodes[live.name]?[type] = records
            if type == .ns && live.name != origin { cuts.insert(live.name) }
        }
        if let ttl = live.negativeTTL { negativeTTLs[live.name] = ttl }
        for (cluster, rrsets) in live.variants {
            guard let index = requesterIndex[cluster] else { continue }
            variants[live.name, default: [:]][index] = rrsets
        }
        return created
    }

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

    /// SOA MINIMUM: the last 32-bit field of the SOA RDATA.
    var soaMinimum: UInt32 {
        let r = soa.rdata
        guard r.count >= 4 else { return 0 }
        return r[(r.count - 4)...].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// Why a table could not be compiled. The old table keeps serving when this is thrown.
public enum CompileError: Error, Equatable, Sendable, CustomStringConvertible {
    case missingSOA(DomainName)
    case duplicateZone(DomainName)
    case answerTooLarge(DomainName, RRType)
    case missingZone(DomainName, purpose: String)

    public var description: String {
        switch self {
        case .missingSOA(let zone): return "zone \(zone) has no SOA record"
        case .duplicateZone(let zone): return "zone \(zone) is loaded twice: keep one file per zone"
        case .answerTooLarge(let name, let type): return "the answer for \(name) \(type) does not fit in 65535 bytes"
        case .missingZone(let zone, let purpose):
            return "no zone file for \(zone) (the \(purpose)): add \(zone)zone to zonesDir with its SOA and NS records"
        }
    }
}
