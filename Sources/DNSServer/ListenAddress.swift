#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One address the DNS server listens on: an IPv4 or IPv6 literal and a port (0 = let the kernel pick).
///
/// Written as `host:port`, with IPv6 in brackets: `127.0.0.1:5300`, `[::1]:53`. Names are not resolved:
/// a DNS server that needs DNS to find its own address cannot start when DNS is down.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address literal without brackets (`127.0.0.1`, `::1`).
    public let host: String
    public let port: Int

    public init(host: String, port: Int) throws(DNSServerConfigurationError) {
        guard (0...65535).contains(port) else {
            throw DNSServerConfigurationError(
                "port \(port) of \(host) is out of range; use 0...65535 (0 picks a free port)"
            )
        }
        guard Self.isIPv4(host) || Self.isIPv6(host) else {
            throw DNSServerConfigurationError(
                "\"\(host)\" is not an IPv4 or IPv6 address literal; host names are not resolved, "
                    + "write e.g. \"127.0.0.1\" or \"::1\""
            )
        }
        self.host = host
        self.port = port
    }

    /// An IPv4 address and port: valid by construction, for built-in defaults.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        self.host = "\(a).\(b).\(c).\(d)"
        self.port = Int(port)
    }

    /// Parses `host:port` or `[ipv6]:port`. Each error names the text, says what is wrong and shows the form
    /// expected; `mcdns check` reports it at its file and line.
    public init(parsing text: String) throws(DNSServerConfigurationError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw DNSServerConfigurationError("\"\(text)\": missing \"]\" after the IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw DNSServerConfigurationError("\"\(text)\": expected \":PORT\" after \"]\" (example: [::1]:5300)")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw DNSServerConfigurationError("\"\(text)\": expected HOST:PORT (example: 127.0.0.1:5300)")
            }
            host = text[..<colon]
            if host.contains(":") {
                throw DNSServerConfigurationError("\"\(text)\": put an IPv6 address in brackets (example: [::1]:5300)")
            }
            portText = text[text.index(after: colon)...]
        }
        guard portText.allSatisfy(\.isASCII), let port = Int(portText), (0...65535).contains(port) else {
            throw DNSServerConfigurationError("\"\(text)\": port \"\(portText)\" is not a number from 0 to 65535")
        }
        guard Self.isIPv4(String(host)) || Self.isIPv6(String(host)) else {
            throw DNSServerConfigurationError(
                "\"\(text)\": \"\(host)\" is not an IP address (host names are not resolved here)"
            )
        }
        self.host = String(host)
        self.port = port
    }

    /// The same host with another port (used once a port-0 listener has learnt its real port).
    public func with(port: Int) -> ListenAddress {
        // Cannot fail: the host was validated and the caller passes a port read back from a bound socket.
        try! ListenAddress(host: host, port: port)
    }

    public var isIPv6: Bool { Self.isIPv6(host) }

    /// 127.0.0.0/8 or ::1: reachable from this host only.
    public var isLoopback: Bool {
        var address = in6_addr()
        if inet_pton(AF_INET6, host, &address) == 1 {
            return withUnsafeBytes(of: address) { bytes in bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 }
        }
        return host.hasPrefix("127.")
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private static func isIPv4(_ host: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, host, &address) == 1
    }

    private static func isIPv6(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET6, host, &address) == 1
    }
}
