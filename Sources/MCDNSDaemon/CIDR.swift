/// An IPv4 or IPv6 prefix such as `10.1.0.0/16`: the address bytes and the prefix length.
public struct CIDR: Sendable, Hashable, CustomStringConvertible {
    /// 4 bytes for IPv4, 16 for IPv6, host bits zero.
    public let address: [UInt8]
    public let prefixLength: Int
    private let text: String

    /// Reads `ADDRESS/LENGTH`. Host bits must be zero: `10.1.2.0/16` is refused, since it usually hides a typo.
    public static func parse(_ text: String) -> Result<CIDR, CIDRError> {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return .failure(CIDRError("\"\(text)\": expected ADDRESS/LENGTH (example: 10.1.0.0/16)"))
        }
        guard let address = IPAddressText.bytes(String(parts[0])) else {
            return .failure(CIDRError("\"\(text)\": \"\(parts[0])\" is not an IPv4 or IPv6 address"))
        }
        let maxLength = address.count * 8
        guard let length = Int(parts[1]), (0...maxLength).contains(length) else {
            return .failure(
                CIDRError("\"\(text)\": prefix length \"\(parts[1])\" must be a number from 0 to \(maxLength)")
            )
        }
        let masked = CIDR.mask(address, length)
        guard masked == address else {
            let suggestion = CIDR(address: masked, prefixLength: length)
            return .failure(CIDRError("\"\(text)\": host bits are set; did you mean \(suggestion)?"))
        }
        return .success(CIDR(address: address, prefixLength: length))
    }

    init(address: [UInt8], prefixLength: Int) {
        self.address = address
        self.prefixLength = prefixLength
        self.text = CIDR.format(address) + "/\(prefixLength)"
    }

    /// True when `other` (4 or 16 bytes) lies inside this prefix; an IPv4 address never matches an IPv6 prefix.
    public func contains(_ other: [UInt8]) -> Bool {
        guard other.count == address.count else { return false }
        return CIDR.mask(other, prefixLength) == address
    }

    public var description: String { text }

    private static func mask(_ bytes: [UInt8], _ length: Int) -> [UInt8] {
        bytes.enumerated().map { index, byte in
            let bits = min(max(length - index * 8, 0), 8)
            return bits == 8 ? byte : byte & ~(UInt8(0xff) >> bits)
        }
    }

    private static func format(_ bytes: [UInt8]) -> String {
        if bytes.count == 4 { return bytes.map(String.init).joined(separator: ".") }
        // Plain uncompressed groups: unambiguous, and only used in messages.
        return stride(from: 0, to: 16, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }
            .joined(separator: ":")
    }
}

/// Why a CIDR could not be read.
public struct CIDRError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
