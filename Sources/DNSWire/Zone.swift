/// The records of one zone file, in file order, each with the line it came from.
public struct Zone: Sendable {
    public var origin: DomainName
    public var records: [ResourceRecord]
    /// `lines[i]` is the line of `records[i]` in `file` (0 when the record was not read from a file).
    public var lines: [Int]
    public var file: String

    public init(origin: DomainName, records: [ResourceRecord], lines: [Int]? = nil, file: String = "") {
        self.origin = origin
        self.records = records
        self.lines = lines ?? Array(repeating: 0, count: records.count)
        self.file = file
    }

    /// The SOA at the apex (a loaded zone always has exactly one).
    public var soa: ResourceRecord? { records.first { $0.type == .soa && $0.owner == origin } }
}
