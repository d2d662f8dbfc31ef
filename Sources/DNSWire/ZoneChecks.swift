/// What a served zone must satisfy beyond syntax. Each finding names the line of the record at fault.
enum ZoneChecks {
    static func check(_ zone: Zone) -> [SourceError] {
        var errors: [SourceError] = []
        func fail(_ index: Int?, _ message: String) {
            let line = index.map { zone.lines[$0] }.flatMap { $0 > 0 ? $0 : nil }
            errors.append(SourceError(file: zone.file, line: line, message: message))
        }

        var typesByName: [DomainName: [RRType: Int]] = [:]
        var soaCount = 0
        for (index, record) in zone.records.enumerated() {
            guard record.owner.isSubdomain(of: zone.origin) else {
                fail(index, "\(record.owner) is outside the zone \(zone.origin)")
                continue
            }
            switch record.type {
            case .soa:
                soaCount += 1
                if record.owner != zone.origin {
                    fail(index, "SOA must be at the apex \(zone.origin), not at \(record.owner)")
                } else if soaCount > 1 {
                    fail(index, "a second SOA record: a zone has exactly one")
                }
            case .dname:
                fail(index, "DNAME is not supported: use CNAME records")
            case .opt, .axfr, .ixfr, .any:
                fail(index, "type \(record.type) cannot appear in a zone")
            default:
                break
            }
            if record.type == .cname, record.owner == zone.origin {
                fail(index, "CNAME at the apex \(zone.origin) is not allowed")
            }
            if typesByName[record.owner, default: [:]][record.type] == nil {
                typesByName[record.owner, default: [:]][record.type] = index
            } else if record.type == .cname {
                fail(index, "a second CNAME at \(record.owner): a name has at most one")
            }
        }
        for (name, types) in typesByName where types[.cname] != nil && types.count > 1 {
            let other = types.filter { $0.key != .cname }.map(\.value).min()
            fail(other, "\(name) has a CNAME and other data: a CNAME must stand alone (RFC 1034 §3.6.2)")
        }
        if soaCount == 0 { fail(nil, "no SOA record: add one at the apex \(zone.origin)") }
        if typesByName[zone.origin]?[.ns] == nil { fail(nil, "no NS records at the apex \(zone.origin)") }
        return errors.sorted { ($0.line ?? 0) < ($1.line ?? 0) }
    }
}
