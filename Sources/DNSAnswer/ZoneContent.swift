public import DNSWire

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
    public let followsTableSerial: Bool

    public init(zone: Zone, followsTableSerial: Bool = false) throws(CompileError) {
        guard let soa = zone.soa else { throw CompileError.missingSOA(zone.origin) }
        self.origin = zone.origin
        self.soa = soa
        self.followsTableSerial = followsTableSerial
        self.nodes = [:]
        self.cuts = []
        for record in zone.records { add(record) }
    }

    /// Adds a record (and the empty non-terminals above it). Records outside the zone are ignored.
    public mutating func add(_ record: ResourceRecord) {
        guard record.owner.isSubdomain(of: origin) else { return }
        var rrsets = nodes[record.owner, default: [:]]
        var set = rrsets[record.type, default: []]
        if !set.contains(where: { $0.rdata == record.rdata }) { set.append(record) }
        rrsets[record.type] = set
        nodes[record.owner] = rrsets
        if record.type == .ns && record.owner != origin { cuts.insert(record.owner) }
        var name = record.owner
        while name != origin, let parent = name.parent {
            if nodes[parent] == nil { nodes[parent] = [:] }
            name = parent
        }
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

    public var description: String {
        switch self {
        case .missingSOA(let zone): return "zone \(zone) has no SOA record"
        case .duplicateZone(let zone): return "zone \(zone) is loaded twice: keep one file per zone"
        case .answerTooLarge(let name, let type): return "the answer for \(name) \(type) does not fit in 65535 bytes"
        }
    }
}
