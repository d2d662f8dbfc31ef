/// A message's opcode (RFC 6895 §2.2): 4 bits of the header's third byte. The named constants are the registered
/// ones; every other opcode is carried through as its number.
///
/// A plain value over the number, as `RRType` and `RCode` are, with inlinable computed constants: the query path
/// reads and compares it like an integer, and a stored `static let` would be read through an accessor call (and
/// a once-check) from other modules.
public struct Opcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// 0 to 15.
    public var rawValue: UInt8
    @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    @inlinable public init(_ rawValue: UInt8) { self.rawValue = rawValue & 0x0F }

    /// The opcode of a header whose third byte (QR, opcode, AA, TC, RD) is `byte`.
    @inlinable public init(headerByte byte: UInt8) { rawValue = (byte >> 3) & 0x0F }

    @inlinable public static var query: Opcode { Opcode(0) }
    @inlinable public static var iquery: Opcode { Opcode(1) }
    @inlinable public static var status: Opcode { Opcode(2) }
    @inlinable public static var notify: Opcode { Opcode(4) }
    @inlinable public static var update: Opcode { Opcode(5) }
    /// DNS Stateful Operations (RFC 8490).
    @inlinable public static var dso: Opcode { Opcode(6) }

    /// The opcode's bits in the header's third byte, the other bits clear.
    @inlinable public var headerBits: UInt8 { rawValue << 3 }

    /// The name dig prints in its `opcode:` field: `QUERY`, `IQUERY`, `STATUS`, `NOTIFY`, `UPDATE`, and
    /// `RESERVED<n>` for every other opcode. That includes 6: dig 9.18 (Debian 12's, which the tests run) prints
    /// DSO as `RESERVED6` (`dig +qr +opcode=6`), so the CLI's header line reads as dig's does.
    public var description: String {
        switch rawValue {
        case 0: "QUERY"
        case 1: "IQUERY"
        case 2: "STATUS"
        case 4: "NOTIFY"
        case 5: "UPDATE"
        default: "RESERVED\(rawValue)"
        }
    }

    /// Reads a name `description` gives (`NOTIFY`, `RESERVED15`), or `DSO` (RFC 8490's mnemonic), in any case;
    /// nil for anything else, including a `RESERVED` number above 15.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        switch upper {
        case "QUERY": self = .query
        case "IQUERY": self = .iquery
        case "STATUS": self = .status
        case "NOTIFY": self = .notify
        case "UPDATE": self = .update
        case "DSO": self = .dso
        default:
            guard upper.hasPrefix("RESERVED") else { return nil }
            let digits = upper.utf8.dropFirst(8)
            guard !digits.isEmpty, digits.count <= 2, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = UInt8(Substring(digits)), value <= 15
            else { return nil }
            self.init(value)
        }
    }
}
