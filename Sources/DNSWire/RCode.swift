/// A response code (RFC 6895 §2.3): 12 bits, the low 4 in the header and the high 8 in the OPT record's extended
/// RCODE; TSIG's error field (RFC 8945 §4.2) carries the same registry in 16 bits. The named constants are the
/// codes mcdns sends or reads; every other code is carried through as its number.
///
/// A plain value over the number, as `RRType` is: the query path copies and compares it like an integer, and
/// JSON carries it as the number.
public struct RCode: RawRepresentable, Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// The code a message carries in its header's 4 bits and its OPT's extended RCODE byte.
    public init(header: UInt8, extended: UInt8 = 0) {
        rawValue = UInt16(extended) << 4 | UInt16(header & 0x0F)
    }

    public static let noError = RCode(0)
    public static let formErr = RCode(1)
    public static let servFail = RCode(2)
    public static let nxDomain = RCode(3)
    public static let notImp = RCode(4)
    public static let refused = RCode(5)
    public static let yxDomain = RCode(6)
    public static let yxRRSet = RCode(7)
    public static let nxRRSet = RCode(8)
    public static let notAuth = RCode(9)
    public static let notZone = RCode(10)
    /// 16 in an OPT's extended RCODE (RFC 6891): the EDNS version is not supported.
    public static let badVers = RCode(16)
    /// 16 in a TSIG's error field (RFC 8945): the MAC does not verify.
    public static let badSig = RCode(16)
    public static let badKey = RCode(17)
    public static let badTime = RCode(18)
    public static let badCookie = RCode(23)

    /// The low 4 bits, as the header carries them.
    public var header: UInt8 { UInt8(truncatingIfNeeded: rawValue & 0x0F) }
    /// The high 8 bits, as an OPT record's extended RCODE carries them (0 for every header-only code).
    public var extended: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 4) }

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
