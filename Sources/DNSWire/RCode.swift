/// A response code (RFC 6895 §2.3): 12 bits, the low 4 in the header and the high 8 in the OPT record's extended
/// RCODE; TSIG's error field (RFC 8945 §4.2) carries the same registry in 16 bits. The named constants are the
/// codes mcdns sends or reads; every other code is carried through as its number.
///
/// A plain value over the number, as `RRType` is: the query path copies and compares it like an integer, and
/// JSON carries it as the number. The constants are inlinable computed values, as `RRType`'s are: a stored
/// `static let` is read through an accessor call from other modules, once per use on the query path.
public struct RCode: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// The code a message carries in its header's 4 bits and its OPT's extended RCODE byte.
    @inlinable public init(header: UInt8, extended: UInt8 = 0) {
        rawValue = UInt16(extended) << 4 | UInt16(header & 0x0F)
    }

    @inlinable public static var noError: RCode { RCode(0) }
    @inlinable public static var formErr: RCode { RCode(1) }
    @inlinable public static var servFail: RCode { RCode(2) }
    @inlinable public static var nxDomain: RCode { RCode(3) }
    @inlinable public static var notImp: RCode { RCode(4) }
    @inlinable public static var refused: RCode { RCode(5) }
    @inlinable public static var yxDomain: RCode { RCode(6) }
    @inlinable public static var yxRRSet: RCode { RCode(7) }
    @inlinable public static var nxRRSet: RCode { RCode(8) }
    @inlinable public static var notAuth: RCode { RCode(9) }
    @inlinable public static var notZone: RCode { RCode(10) }
    /// 16 in an OPT's extended RCODE (RFC 6891): the EDNS version is not supported.
    @inlinable public static var badVers: RCode { RCode(16) }
    /// 16 in a TSIG's error field (RFC 8945): the MAC does not verify.
    @inlinable public static var badSig: RCode { RCode(16) }
    @inlinable public static var badKey: RCode { RCode(17) }
    @inlinable public static var badTime: RCode { RCode(18) }
    @inlinable public static var badCookie: RCode { RCode(23) }

    /// The low 4 bits, as the header carries them.
    @inlinable public var header: UInt8 { UInt8(truncatingIfNeeded: rawValue & 0x0F) }
    /// The high 8 bits, as an OPT record's extended RCODE carries them (0 for every header-only code).
    @inlinable public var extended: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 4) }

    /// The IANA mnemonic as dig prints it in `status:` (`NXDOMAIN`), or `RCODE12` for a code without one.
    /// 16 reads `BADVERS`: a response's status comes from its header and OPT, where 16 means that.
    public var description: String {
        switch rawValue {
        case 0: "NOERROR"
        case 1: "FORMERR"
        case 2: "SERVFAIL"
        case 3: "NXDOMAIN"
        case 4: "NOTIMP"
        case 5: "REFUSED"
        case 6: "YXDOMAIN"
        case 7: "YXRRSET"
        case 8: "NXRRSET"
        case 9: "NOTAUTH"
        case 10: "NOTZONE"
        case 16: "BADVERS"
        case 17: "BADKEY"
        case 18: "BADTIME"
        case 23: "BADCOOKIE"
        default: "RCODE\(rawValue)"
        }
    }

    public static func < (lhs: RCode, rhs: RCode) -> Bool { lhs.rawValue < rhs.rawValue }
}
