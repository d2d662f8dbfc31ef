#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One IPv4 or IPv6 address: parsed once where it enters (a Kubernetes object, a state file, the configuration),
/// then carried as its bytes. The DNS side copies the bytes into A and AAAA rdata without reading text again.
///
/// Invariants:
/// - It holds exactly the 4 (IPv4) or 16 (IPv6) bytes `inet_pton` gave, inline (two words and the family; no heap).
///   The bytes past an IPv4 address's 4 are zero, so equal addresses compare and hash equal.
/// - Text is read by the C library's `inet_pton` (first as IPv4, then as IPv6), so what is accepted is exactly what
///   the sockets layer accepts: no zone (`fe80::1%eth0`), no leading zeros in an IPv4 octet (`010.0.0.1`), no
///   embedded NUL. `::ffff:1.2.3.4` stays an IPv6 address (an AAAA record), not the IPv4 one it maps.
/// - `description` is the canonical text (`inet_ntop`: IPv4 dotted, IPv6 compressed and lower-case), so one
///   address is one text however it was written (`2001:DB8:0::1` → `2001:db8::1`); it is also how it encodes
///   (Codable as that string), so JSON documents read the same as when addresses were kept as canonical strings.
public struct IPAddress: Sendable, Hashable, Codable, CustomStringConvertible, ExpressibleByStringLiteral {
    public enum Family: String, Sendable, Hashable {
        case v4 = "IPv4"
        case v6 = "IPv6"

        var addressFamily: Int32 { self == .v4 ? AF_INET : AF_INET6 }
    }

    /// Why a text is not an address; the message names the text and the forms expected.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        public let text: String
        public let family: Family?

        public init(text: String, family: Family?) {
            self.text = text
            self.family = family
        }

        public var description: String {
            switch family {
            case nil: "\"\(text)\" is not an IPv4 or IPv6 address"
            case .v4?: "\"\(text)\" is not an IPv4 address"
            case .v6?: "\"\(text)\" is not an IPv6 address"
            }
        }
    }

    /// The address bytes in network order, in memory order across the two words (the first 4 for IPv4).
    private var storage: (UInt64, UInt64)
    public let family: Family

    public var isIPv6: Bool { family == .v6 }
    /// 4 or 16.
    public var byteCount: Int { family == .v4 ? 4 : 16 }

    /// Reads an IPv4 literal, else an IPv6 literal; nil when `text` is neither.
    public init?(_ text: String) {
        guard let address = IPAddress(text, family: .v4) ?? IPAddress(text, family: .v6) else { return nil }
        self = address
    }

    /// Reads a literal of one family only (an EndpointSlice's addressType fixes it).
    public init?(_ text: String, family: Family) {
        guard !text.utf8.contains(0) else { return nil }
        var storage: (UInt64, UInt64) = (0, 0)
        let parsed = text.withCString { string in
            withUnsafeMutableBytes(of: &storage) { inet_pton(family.addressFamily, string, $0.baseAddress) }
        }
        guard parsed == 1 else { return nil }
        self.storage = storage
        self.family = family
    }

    /// `init?(_:)` with the reason when `text` is not an address.
    public init(parsing text: String) throws(ParseError) {
        guard let address = IPAddress(text) else { throw ParseError(text: text, family: nil) }
        self = address
    }

    /// `init?(_:family:)` with the reason when `text` is not an address of that family.
    public init(parsing text: String, family: Family) throws(ParseError) {
        guard let address = IPAddress(text, family: family) else { throw ParseError(text: text, family: family) }
        self = address
    }

    /// 4 bytes make an IPv4 address, 16 an IPv6 one; any other count is nil.
    public init?(bytes: some Collection<UInt8>) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        var storage: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &storage) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        self.storage = storage
        self.family = bytes.count == 4 ? .v4 : .v6
    }

    /// An IPv4 address from its four octets: valid by construction.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        self.init(bytes: [a, b, c, d])!
    }

    /// For literals written in code (tests, built-in defaults). A literal that is not an address is a mistake in
    /// the code, not input, and stops the program; text that comes from outside goes through `init(parsing:)`.
    public init(stringLiteral text: String) {
        guard let address = IPAddress(text) else { preconditionFailure("\"\(text)\" is not an IP address literal") }
        self = address
    }

    /// The 4 or 16 address bytes, in network order.
    public func withUnsafeBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try Swift.withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0.prefix(byteCount))) }
    }

    /// The 4 or 16 address bytes as an array (the rdata of an A or AAAA record).
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The canonical text (`inet_ntop`).
    public var description: String {
        Swift.withUnsafeBytes(of: storage) { address in
            withUnsafeTemporaryAllocation(of: CChar.self, capacity: Int(INET6_ADDRSTRLEN)) { buffer in
                // Cannot fail: the family is AF_INET or AF_INET6 and the buffer holds the longest IPv6 text.
                guard inet_ntop(family.addressFamily, address.baseAddress, buffer.baseAddress,
                                socklen_t(buffer.count)) != nil
                else { return "" }
                return String(cString: buffer.baseAddress!)
            }
        }
    }

    public static func == (lhs: IPAddress, rhs: IPAddress) -> Bool {
        lhs.family == rhs.family && lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(family)
        hasher.combine(storage.0)
        hasher.combine(storage.1)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let address = IPAddress(text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: ParseError(text: text, family: nil).description)
        }
        self = address
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
