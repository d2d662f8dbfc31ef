/// One resource record, class IN, with its RDATA in uncompressed wire form.
///
/// `compressibleNames` lists the offsets inside `rdata` where a domain name starts that RFC 3597 lets a server
/// compress (the names in NS, CNAME, SOA, MX, PTR and the other RFC 1035 types). The answer compiler uses them.
public struct ResourceRecord: Hashable, Sendable {
    public var owner: DomainName
    public var type: RRType
    public var ttl: UInt32
    public var rdata: [UInt8]
    public var compressibleNames: [Int]

    public init(owner: DomainName, type: RRType, ttl: UInt32, rdata: [UInt8], compressibleNames: [Int] = []) {
        self.owner = owner
        self.type = type
        self.ttl = ttl
        self.rdata = rdata
        self.compressibleNames = compressibleNames
    }

    /// An A record.
    public static func a(_ owner: DomainName, ttl: UInt32, _ address: [UInt8]) -> ResourceRecord {
        ResourceRecord(owner: owner, type: .a, ttl: ttl, rdata: address)
    }

    /// An AAAA record.
    public static func aaaa(_ owner: DomainName, ttl: UInt32, _ address: [UInt8]) -> ResourceRecord {
        ResourceRecord(owner: owner, type: .aaaa, ttl: ttl, rdata: address)
    }

    /// A CNAME record.
    public static func cname(_ owner: DomainName, ttl: UInt32, target: DomainName) -> ResourceRecord {
        ResourceRecord(owner: owner, type: .cname, ttl: ttl, rdata: target.wire, compressibleNames: [0])
    }

    /// The domain names inside the RDATA of types whose RDATA is one name or ends with a name that other
    /// records point at (CNAME, NS, PTR, DNAME: the name; MX: the exchange; SRV: the target).
    public var targetName: DomainName? {
        let start: Int
        switch type {
        case .cname, .ns, .ptr, .dname: start = 0
        case .mx: start = 2
        case .srv: start = 6
        default: return nil
        }
        guard start < rdata.count else { return nil }
        return try? DomainName(wire: Array(rdata[start...]))
    }
}
