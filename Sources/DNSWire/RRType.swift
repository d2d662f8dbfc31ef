internal import CLDNS

/// A resource record type code. The named constants are the ones mcdns itself reasons about;
/// every other type is carried through as its number.
public struct RRType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// Type 0 is reserved (RFC 6895 §3.1): no record has it, so it stands for "no type" where a question could
    /// not be read.
    public static let reserved = RRType(0)
    public static let a = RRType(1)
    public static let ns = RRType(2)
    public static let cname = RRType(5)
    public static let soa = RRType(6)
    public static let ptr = RRType(12)
    public static let mx = RRType(15)
    public static let txt = RRType(16)
    public static let aaaa = RRType(28)
    public static let srv = RRType(33)
    public static let dname = RRType(39)
    public static let opt = RRType(41)
    public static let ds = RRType(43)
    public static let rrsig = RRType(46)
    public static let tsig = RRType(250)
    public static let ixfr = RRType(251)
    public static let axfr = RRType(252)
    public static let any = RRType(255)

    /// The mnemonic (`AAAA`) or `TYPE65280` for types ldns does not know. The question-only types (RFC 6895 §3.1)
    /// have no ldns descriptor; their names are the ones `init(mnemonic:)` reads.
    public var description: String {
        switch rawValue {
        case 251: return "IXFR"
        case 252: return "AXFR"
        case 253: return "MAILB"
        case 254: return "MAILA"
        case 255: return "ANY"
        default: break
        }
        guard let descriptor = ldns_rr_descript(rawValue), let name = descriptor.pointee._name else {
            return "TYPE\(rawValue)"
        }
        return String(cString: name)
    }

    /// Reads a mnemonic or `TYPEnnn` (decimal digits, 0...65535); nil when neither.
    ///
    /// `TYPE` forms never reach ldns: it reads their number with `atoi`, so `TYPE65536` or `TYPE-1` would come
    /// back as a value that does not fit 16 bits.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        if upper.hasPrefix("TYPE") {
            let digits = upper.utf8.dropFirst(4)
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = UInt16(Substring(digits))
            else { return nil }
            self.init(value)
            return
        }
        guard upper.utf8.count <= 32, upper.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return nil }
        let type = ldns_get_rr_type_by_name(upper)
        guard type.rawValue != 0, let value = UInt16(exactly: type.rawValue) else { return nil }
        self.init(value)
    }

    public static func < (lhs: RRType, rhs: RRType) -> Bool { lhs.rawValue < rhs.rawValue }
}
