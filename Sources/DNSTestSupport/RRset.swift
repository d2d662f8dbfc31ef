/// One RRset as dig printed it, normalised so two servers' answers compare equal when they mean the same thing:
/// owner lower-cased, names inside RDATA lower-cased for the types whose RDATA holds names (RFC 4034 §6.2),
/// records sorted.
public struct RRset: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var owner: String
    public var ttl: UInt32
    public var rrClass: String
    public var type: String
    public var rdata: [String]

    public init(owner: String, ttl: UInt32, rrClass: String, type: String, rdata: [String]) {
        self.owner = owner.lowercased()
        self.ttl = ttl
        self.rrClass = rrClass.uppercased()
        self.type = type.uppercased()
        let normalise = RRset.typesWithNamesInRDATA.contains(self.type)
        self.rdata = rdata.map { normalise ? $0.lowercased() : $0 }.sorted()
    }

    /// RR types whose RDATA contains domain names, lower-cased for comparison as in DNSSEC canonical form.
    public static let typesWithNamesInRDATA: Set<String> = [
        "NS", "MD", "MF", "CNAME", "SOA", "MB", "MG", "MR", "PTR", "MINFO", "MX", "RP", "AFSDB", "RT", "PX",
        "NXT", "NAPTR", "KX", "SRV", "DNAME", "NSEC",
    ]

    public static func < (lhs: RRset, rhs: RRset) -> Bool {
        (lhs.owner, lhs.type, lhs.rrClass, lhs.ttl, lhs.rdata.joined(separator: "\n"))
            < (rhs.owner, rhs.type, rhs.rrClass, rhs.ttl, rhs.rdata.joined(separator: "\n"))
    }

    public var description: String {
        rdata.map { "\(owner) \(ttl) \(rrClass) \(type) \($0)" }.joined(separator: "\n")
    }
}
