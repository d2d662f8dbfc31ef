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

    /// Parses `host:port` or `[ipv6]:port`.
    public init(parsing text: String) throws(DNSServerConfigurationError) {
        let hint = "write \"HOST:PORT\", e.g. \"127.0.0.1:5300\" or \"[::1]:5300\""
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw DNSServerConfigurationError("listen address \"\(text)\" has no closing \"]\"; \(hint)")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else {
                throw DNSServerConfigurationError("listen address \"\(text)\" has no \":PORT\" after \"]\"; \(hint)")
            }
            portText = rest.dropFirst()
        } else {
            let colons = text.filter { $0 == ":" }.count
            guard colons == 1, let colon = text.firstIndex(of: ":") else {
                let why = colons == 0 ? "has no port" : "looks like IPv6 without brackets"
                throw DNSServerConfigurationError("listen address \"\(text)\" \(why); \(hint)")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !portText.isEmpty, portText.allSatisfy(\.isASCII), let port = Int(portText) else {
            throw DNSServerConfigurationError("listen address \"\(text)\" has no numeric port; \(hint)")
        }
        do {
            try self.init(host: String(host), port: port)
        } catch {
            throw DNSServerConfigurationError("listen address \"\(text)\": \(error.message)")
        }
    }

    /// The same host with another port (used once a port-0 listener has learnt its real port).
    public func with(port: Int) -> ListenAddress {
        // Cannot fail: the host was validated and the caller passes a port read back from a bound socket.
        try! ListenAddress(host: host, port: port)
    }

    public var isIPv6: Bool { Self.isIPv6(host) }

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
