/// `--admin`: `http://HOST:PORT[/prefix]`, or `HOST:PORT`. HTTPS is not offered by the admin API.
struct AdminURL {
    static let defaultText = "http://127.0.0.1:9253"

    let text: String
    let host: String
    let port: Int
    let pathPrefix: String

    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    init(_ text: String) throws(CommandFailure) {
        self.text = text
        var rest = Substring(text)
        if rest.hasPrefix("https://") {
            throw .usage(
                "--admin \(text): the admin API speaks plain HTTP; use http://HOST:PORT "
                    + "(put a TLS proxy in front of it to reach it across a network)"
            )
        }
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        let slash = rest.firstIndex(of: "/")
        let authority = slash.map { rest[..<$0] } ?? rest
        var prefix = slash.map { String(rest[$0...]) } ?? ""
        while prefix.hasSuffix("/") { prefix.removeLast() }
        pathPrefix = prefix
        let hostPart: Substring
        let portPart: Substring?
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            portPart = after.hasPrefix(":") ? after.dropFirst() : nil
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        } else {
            hostPart = authority
            portPart = nil
        }
        guard !hostPart.isEmpty else { throw .usage("--admin \(text): no host; expected http://HOST:PORT") }
        host = String(hostPart)
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else {
                throw .usage("--admin \(text): \"\(portPart)\" is not a port (1 to 65535)")
            }
            port = value
        } else {
            port = 9253
        }
    }
}
