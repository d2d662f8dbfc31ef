internal import CLDNS

/// A resource record type code. The named constants are the ones mcdns itself reasons about;
/// every other type is carried through as its number. The constants are inlinable computed values: a stored
/// `static let` is read through an accessor call (and a once-check) from other modules, and the query path
/// compares query types against them per query.
public struct RRType: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// Type 0 is reserved (RFC 6895 §3.1): no record has it, so it stands for "no type" where a question could
    /// not be read.
    @inlinable public static var reserved: RRType { RRType(0) }
    @inlinable public static var a: RRType { RRType(1) }
    @inlinable public static var ns: RRType { RRType(2) }
    @inlinable public static var cname: RRType { RRType(5) }
    @inlinable public static var soa: RRType { RRType(6) }
    @inlinable public static var ptr: RRType { RRType(12) }
    @inlinable public static var mx: RRType { RRType(15) }
    @inlinable public static var txt: RRType { RRType(16) }
    @inlinable public static var aaaa: RRType { RRType(28) }
    @inlinable public static var srv: RRType { RRType(33) }
    @inlinable public static var dname: RRType { RRType(39) }
    @inlinable public static var opt: RRType { RRType(41) }
    @inlinable public static var ds: RRType { RRType(43) }
    @inlinable public static var rrsig: RRType { RRType(46) }
    @inlinable public static var tsig: RRType { RRType(250) }
    @inlinable public static var ixfr: RRType { RRType(251) }
    @inlinable public static var axfr: RRType { RRType(252) }
    @inlinable public static var any: RRType { RRType(255) }

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
