#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads IP address literals with the C library's own parser (`inet_pton`), so what we accept is exactly what the
/// sockets layer accepts later.
enum IPAddressText {
    /// The 4 or 16 address bytes of an IPv4 or IPv6 literal, or nil when `text` is neither.
    static func bytes(_ text: String) -> [UInt8]? {
        if let v4 = parse(text, family: AF_INET, count: 4) { return v4 }
        return parse(text, family: AF_INET6, count: 16)
    }

    private static func parse(_ text: String, family: Int32, count: Int) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 16)
        let result = buffer.withUnsafeMutableBytes { inet_pton(family, text, $0.baseAddress) }
        return result == 1 ? Array(buffer.prefix(count)) : nil
    }
}
