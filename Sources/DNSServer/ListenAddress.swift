public import MCDNSModel

/// One address the DNS server listens on: an IPv4 or IPv6 address and a port (0 = let the kernel pick).
///
/// Written as `host:port`, with IPv6 in brackets: `127.0.0.1:5300`, `[::1]:53`. Names are not resolved:
/// a DNS server that needs DNS to find its own address cannot start when DNS is down. The address is read once,
/// by `IPAddress` (inet_pton), when the text is; `host` is its canonical text.
public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
    public let address: IPAddress
    public let port: Int

    /// The address's canonical text without brackets (`127.0.0.1`, `::1`).
    public var host: String { address.description }

    public init(host: String, port: Int) throws(DNSServerConfigurationError) {
        guard let address = IPAddress(host) else {
            throw DNSServerConfigurationError(
                "\"\(host)\" is not an IPv4 or IPv6 address literal; host names are not resolved, "
                    + "write e.g. \"127.0.0.1\" or \"::1\""
            )
        }
        try self.init(address: address, port: port)
    }

    public init(address: IPAddress, port: Int) throws(DNSServerConfigurationError) {
        guard (0...65535).contains(port) else {
            throw DNSServerConfigurationError(
                "port \(port) of \(address) is out of range; use 0...65535 (0 picks a free port)"
            )
        }
        self.address = address
        self.port = port
    }

    /// An IPv4 address and port: valid by construction, for built-in defaults.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16) {
        self.address = IPAddress(ipv4: a, b, c, d)
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
        guard let address = IPAddress(String(host)) else {
            throw DNSServerConfigurationError(
                "\"\(text)\": \"\(host)\" is not an IP address (host names are not resolved here)"
            )
        }
        self.address = address
        self.port = port
    }

    /// The same host with another port (used once a port-0 listener has learnt its real port).
    public func with(port: Int) -> ListenAddress {
        // Cannot fail: the caller passes a port read back from a bound socket.
        try! ListenAddress(address: address, port: port)
    }

    public var isIPv6: Bool { address.isIPv6 }

    /// 127.0.0.0/8 or ::1: reachable from this host only.
    public var isLoopback: Bool {
        address.withUnsafeBytes { bytes in
            address.isIPv6 ? bytes.dropLast().allSatisfy { $0 == 0 } && bytes.last == 1 : bytes.first == 127
        }
    }

    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
