#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Address checks for the fields that must hold IP literals (clusterIPs, endpoint addresses, LoadBalancer ips).
enum IPAddress {
    enum Family: String, Sendable {
        case v4 = "IPv4"
        case v6 = "IPv6"
    }

    /// The canonical text of an IPv4 or IPv6 literal (IPv6 compressed and lower-cased, so one address is one
    /// string however it was written), or nil when `text` is not an address.
    static func canonical(_ text: String) -> (address: String, family: Family)? {
        if let v4 = canonical(text, family: .v4) { return (v4, .v4) }
        if let v6 = canonical(text, family: .v6) { return (v6, .v6) }
        return nil
    }

    static func canonical(_ text: String, family: Family) -> String? {
        let af = family == .v4 ? AF_INET : AF_INET6
        var bytes = [UInt8](repeating: 0, count: 16)
        let parsed = text.withCString { inet_pton(af, $0, &bytes) }
        guard parsed == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(af, bytes, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
