extension Configuration {
    /// An IP literal and a port to bind: `127.0.0.1:5300`, `[::1]:5300`, `0.0.0.0:8443`.
    public struct ListenAddress: Sendable, Hashable, CustomStringConvertible {
        /// The IP literal, without brackets.
        public var host: String
        /// 0 to 65535; 0 lets the kernel pick a free port.
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }

        /// 127.0.0.0/8 or ::1: reachable from this host only.
        public var isLoopback: Bool {
            host == "::1" || host.hasPrefix("127.") || host == "0:0:0:0:0:0:0:1"
        }

        /// Reads `HOST:PORT` (IPv6 hosts in brackets); the error text says what is wrong and shows the expected form.
        public static func parse(_ text: String) -> Result<ListenAddress, ListenAddressError> {
            let host: Substring
            let portText: Substring
            if text.hasPrefix("[") {
                guard let close = text.firstIndex(of: "]") else {
                    return .failure(ListenAddressError("\"\(text)\": missing \"]\" after the IPv6 address"))
                }
                host = text[text.index(after: text.startIndex)..<close]
                let rest = text[text.index(after: close)...]
                guard rest.hasPrefix(":") else {
                    return .failure(
                        ListenAddressError("\"\(text)\": expected \":PORT\" after \"]\" (example: [::1]:5300)")
                    )
                }
                portText = rest.dropFirst()
            } else {
                guard let colon = text.lastIndex(of: ":") else {
                    return .failure(ListenAddressError("\"\(text)\": expected HOST:PORT (example: 127.0.0.1:5300)"))
                }
                host = text[..<colon]
                if host.contains(":") {
                    return .failure(
                        ListenAddressError("\"\(text)\": put an IPv6 address in brackets (example: [::1]:5300)")
                    )
                }
                portText = text[text.index(after: colon)...]
            }
            guard let port = Int(portText), (0...65535).contains(port) else {
                return .failure(ListenAddressError("\"\(text)\": port \"\(portText)\" is not a number from 0 to 65535"))
            }
            guard IPAddressText.bytes(String(host)) != nil else {
                return .failure(
                    ListenAddressError(
                        "\"\(text)\": \"\(host)\" is not an IP address (host names are not resolved here)"
                    )
                )
            }
            return .success(ListenAddress(host: String(host), port: port))
        }

        public var isIPv6: Bool { host.contains(":") }

        public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }
}

/// Why a listen address could not be read.
public struct ListenAddressError: Error, Equatable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
