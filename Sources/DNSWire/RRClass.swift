/// A resource record class (RFC 6895 §3.2). mcdns serves class IN only; the other named constants are the ones a
/// query may carry and the tests send. Every other class is carried through as its number.
///
/// A plain value over the number, as `RRType` is, with inlinable computed constants: the query path compares the
/// question's class against `.in` per query, and a stored `static let` would be read through an accessor call (and
/// a once-check) from other modules.
public struct RRClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    @inlinable public static var `in`: RRClass { RRClass(1) }
    /// Chaos (CH).
    @inlinable public static var chaos: RRClass { RRClass(3) }
    /// Hesiod (HS).
    @inlinable public static var hesiod: RRClass { RRClass(4) }
    /// NONE (RFC 2136): only in dynamic update messages.
    @inlinable public static var none: RRClass { RRClass(254) }
    /// ANY, `*` in RFC 1035: only in questions.
    @inlinable public static var any: RRClass { RRClass(255) }

    /// The mnemonic as dig prints it (`IN`, `CH`, `HS`, `NONE`, `ANY`), or `CLASS<n>` (RFC 3597 §5) for the rest.
    public var description: String {
        switch rawValue {
        case 1: "IN"
        case 3: "CH"
        case 4: "HS"
        case 254: "NONE"
        case 255: "ANY"
        default: "CLASS\(rawValue)"
        }
    }

    /// Reads a mnemonic `description` gives, in any case, or `CLASSnnn` (decimal digits, 0...65535); nil when
    /// neither.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        switch upper {
        case "IN": self = .in
        case "CH": self = .chaos
        case "HS": self = .hesiod
        case "NONE": self = .none
        case "ANY": self = .any
        default:
            guard upper.hasPrefix("CLASS") else { return nil }
            let digits = upper.utf8.dropFirst(5)
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = UInt16(Substring(digits))
            else { return nil }
            self.init(value)
        }
    }
}
