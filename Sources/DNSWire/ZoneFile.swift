internal import CLDNS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads RFC 1035 master files through ldns and checks what a served zone needs.
public enum ZoneFile {
    /// The default TTL of records that give none, when the file has no `$TTL`.
    public static let defaultTTL: UInt32 = 3600

    /// Loads a zone file; throws the first error found (see `read` for all of them).
    public static func load(path: String, origin: DomainName? = nil) throws(SourceError) -> Zone {
        let (zone, errors) = read(path: path, origin: origin)
        if let first = errors.first { throw first }
        guard let zone else { throw SourceError(file: path, line: nil, message: "no zone read") }
        return zone
    }

    /// Loads a zone file and returns every error found, each with its line. The zone is nil when any error was found.
    /// `origin` defaults to the file name without a trailing `.zone` (`example.com.zone` → `example.com.`).
    public static func read(path: String, origin: DomainName? = nil) -> (Zone?, [SourceError]) {
        guard let file = fopen(path, "r") else {
            let reason = String(cString: strerror(errno))
            return (nil, [SourceError(file: path, line: nil, message: "cannot open zone file: \(reason)")])
        }
        defer { fclose(file) }
        return read(stream: file, name: path, origin: origin ?? originFromFileName(path))
    }

    /// Parses zone text held in memory (tests, generated zones).
    public static func parse(_ text: String, origin: DomainName, name: String = "<memory>") -> (Zone?, [SourceError]) {
        var bytes = Array(text.utf8)
        if bytes.isEmpty { bytes = [0x0A] }
        return bytes.withUnsafeMutableBytes { buffer -> (Zone?, [SourceError]) in
            guard let stream = fmemopen(buffer.baseAddress, buffer.count, "r") else {
                return (nil, [SourceError(file: name, line: nil, message: "cannot read zone text")])
            }
            defer { fclose(stream) }
            return read(stream: stream, name: name, origin: origin)
        }
    }

    static func originFromFileName(_ path: String) -> DomainName? {
        var base = path.split(separator: "/").last.map(String.init) ?? path
        if base.hasSuffix(".zone") { base.removeLast(5) }
        return try? DomainName(base)
    }

    private static func read(stream: UnsafeMutablePointer<FILE>, name: String, origin: DomainName?) -> (Zone?, [SourceError]) {
        var errors: [SourceError] = []
        var records: [ResourceRecord] = []
        var lines: [Int] = []
        var seen = Set<ResourceRecord>()

        var ttl = defaultTTL
        var originRDF: UnsafeMutablePointer<ldns_rdf>? = nil
        if let origin {
            originRDF = origin.wire.withUnsafeBufferPointer {
                ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, $0.count, $0.baseAddress)
            }
        }
        var previous: UnsafeMutablePointer<ldns_rdf>? = nil
        defer {
            if let originRDF { ldns_rdf_deep_free(originRDF) }
            if let previous { ldns_rdf_deep_free(previous) }
        }

        // ldns counts the lines it consumes; a record starts on the first non-blank line after the previous one.
        var lineNumber: Int32 = 1
        while feof(stream) == 0 {
            let startLine = Int(lineNumber)
            var rr: UnsafeMutablePointer<ldns_rr>? = nil
            let status = ldns_rr_new_frm_fp_l(&rr, stream, &ttl, &originRDF, &previous, &lineNumber)
            switch status {
            case LDNS_STATUS_OK:
                guard let rr else { continue }
                defer { ldns_rr_free(rr) }
                let line = recordLine(startLine: startLine, endLine: Int(lineNumber))
                switch convert(rr) {
                case .success(let record):
                    if seen.insert(record.withoutTTL).inserted {
                        records.append(record)
                        lines.append(line)
                    }
                case .failure(let message):
                    errors.append(SourceError(file: name, line: line, message: message))
                }
            case LDNS_STATUS_SYNTAX_EMPTY, LDNS_STATUS_SYNTAX_TTL, LDNS_STATUS_SYNTAX_ORIGIN:
                continue
            case LDNS_STATUS_SYNTAX_INCLUDE:
                errors.append(SourceError(file: name, line: Int(lineNumber) - 1,
                                          message: "$INCLUDE is not supported: put the records in this file"))
            default:
                let reason = String(cString: ldns_get_errorstr_by_id(status))
                errors.append(SourceError(file: name, line: max(1, Int(lineNumber) - 1), message: reason.lowercased()))
            }
        }
        guard let zoneOrigin = origin ?? records.first(where: { $0.type == .soa })?.owner else {
            errors.append(SourceError(file: name, line: nil, message: "no origin: add $ORIGIN or name the file ORIGIN.zone"))
            return (nil, errors)
        }
        let zone = Zone(origin: zoneOrigin, records: records, lines: lines, file: name)
        errors += ZoneChecks.check(zone)
        return (errors.isEmpty ? zone : nil, errors)
    }

    /// ldns leaves the counter after the record's last line; without parentheses that is one line per record.
    private static func recordLine(startLine: Int, endLine: Int) -> Int {
        max(startLine, endLine - 1)
    }

    private enum Conversion {
        case success(ResourceRecord)
        case failure(String)
    }

    private static func convert(_ rr: UnsafeMutablePointer<ldns_rr>) -> Conversion {
        guard ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN else {
            return .failure("only class IN is served")
        }
        guard let ownerRDF = ldns_rr_owner(rr), let owner = try? DomainName(wire: bytes(of: ownerRDF)) else {
            return .failure("bad owner name")
        }
        let type = RRType(UInt16(ldns_rr_get_type(rr).rawValue))
        let compress = ldns_rr_descript(type.rawValue).map { $0.pointee._compress == LDNS_RR_COMPRESS } ?? false
        var rdata: [UInt8] = []
        var names: [Int] = []
        for index in 0..<ldns_rr_rd_count(rr) {
            guard let field = ldns_rr_rdf(rr, index) else { continue }
            if compress && ldns_rdf_get_type(field) == LDNS_RDF_TYPE_DNAME { names.append(rdata.count) }
            rdata += bytes(of: field)
        }
        // Cross-check with ldns's own RDATA renderer; on any mismatch keep ldns's bytes and compress nothing.
        if let buffer = ldns_buffer_new(Int(LDNS_MAX_PACKETLEN)) {
            defer { ldns_buffer_free(buffer) }
            if ldns_rr_rdata2buffer_wire(buffer, rr) == LDNS_STATUS_OK {
                let count = ldns_buffer_position(buffer)
                let wire = Array(UnsafeBufferPointer(start: ldns_buffer_begin(buffer), count: count))
                if wire != rdata {
                    rdata = wire
                    names = []
                }
            }
        }
        guard rdata.count <= 65535 else { return .failure("RDATA longer than 65535 bytes") }
        return .success(ResourceRecord(owner: owner, type: type, ttl: ldns_rr_ttl(rr), rdata: rdata, compressibleNames: names))
    }

    private static func bytes(of rdf: UnsafePointer<ldns_rdf>) -> [UInt8] {
        let size = ldns_rdf_size(rdf)
        guard size > 0, let data = ldns_rdf_data(rdf) else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}

extension ResourceRecord {
    /// The record with TTL 0: RRset members are compared without their TTL.
    var withoutTTL: ResourceRecord {
        var copy = self
        copy.ttl = 0
        return copy
    }
}
