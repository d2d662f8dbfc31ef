import MCDNSModel

/// An IPv4 or IPv6 address or network.
public struct IPNetwork: Sendable, Equatable, CustomStringConvertible {
    /// 4 or 16 bytes.
    public var address: [UInt8]
    public var prefixLength: Int

    public var isIPv6: Bool { address.count == 16 }

    /// Reads `10.1.0.0/16`, `2001:db8::/32` or a bare address (a host network).
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPNetwork.parseAddress(String(parts[0])) else { return nil }
        let maximum = address.count * 8
        var prefix = maximum
        if parts.count == 2 {
            guard let value = Int(parts[1]), value >= 0, value <= maximum else { return nil }
            prefix = value
        }
        self.address = IPNetwork.masked(address, prefix)
        self.prefixLength = prefix
    }

    public init(address: [UInt8], prefixLength: Int) {
        self.address = IPNetwork.masked(address, prefixLength)
        self.prefixLength = prefixLength
    }

    public var description: String {
        IPNetwork.format(address) + (prefixLength == address.count * 8 ? "" : "/\(prefixLength)")
    }

    /// True when `bytes` (an address of the same family) lies in this network.
    public func contains(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count == address.count else { return false }
        var remaining = prefixLength
        var index = 0
        while remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if bytes[index] & mask != address[index] { return false }
            remaining -= 8
            index += 1
        }
        return true
    }

    static func masked(_ address: [UInt8], _ prefix: Int) -> [UInt8] {
        var copy = address
        for index in copy.indices {
            let bits = prefix - index * 8
            if bits <= 0 { copy[index] = 0 } else if bits < 8 { copy[index] &= ~(0xFF >> UInt8(bits)) }
        }
        return copy
    }

    /// 4 bytes for IPv4, 16 for IPv6, nil when the text is neither (read by `IPAddress`, the one parser).
    public static func parseAddress(_ text: String) -> [UInt8]? {
        IPAddress(text)?.bytes
    }

    static func format(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        var groups: [UInt16] = []
        for index in stride(from: 0, to: 16, by: 2) { groups.append(UInt16(address[index]) << 8 | UInt16(address[index + 1])) }
        // RFC 5952: compress the longest run of zero groups (of two or more).
        var bestStart = -1, bestLength = 0, runStart = -1
        for (index, group) in groups.enumerated() {
            if group == 0 {
                if runStart < 0 { runStart = index }
                if index - runStart + 1 > bestLength { bestStart = runStart; bestLength = index - runStart + 1 }
            } else {
                runStart = -1
            }
        }
        let hex = groups.map { String($0, radix: 16) }
        guard bestLength >= 2 else { return hex.joined(separator: ":") }
        let head = hex[..<bestStart].joined(separator: ":")
        let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
        return head + "::" + tail
    }
}
