import Foundation
public import NIOSSL

/// What the agent needs to dial its host: where, as which cluster, with which credential, trusting which CA.
public struct TunnelAgentConfiguration: Sendable {
    public enum Credential: Sendable {
        /// A bearer token read from this file at every dial, so a rotated token is picked up on reconnect.
        case tokenFile(String)
        /// A client certificate whose CN (or DNS SAN) names the cluster, signed by the host's client CA.
        case clientCertificate(chain: [NIOSSLCertificate], key: NIOSSLPrivateKey)
    }

    public var host: String
    public var port: Int
    /// Sent as a cross-check only: the host takes the cluster from the credential and refuses a mismatch.
    public var cluster: String
    public var credential: Credential
    /// The only CA the agent trusts for the host's certificate (pinned; the system roots are not used).
    public var hostCertificateAuthority: [NIOSSLCertificate]
    public var limits: TunnelLimits
    public var backoff: ReconnectBackoff

    public init(
        host: String,
        port: Int,
        cluster: String,
        credential: Credential,
        hostCertificateAuthority: [NIOSSLCertificate],
        limits: TunnelLimits = TunnelLimits(),
        backoff: ReconnectBackoff = ReconnectBackoff()
    ) {
        self.host = host
        self.port = port
        self.cluster = cluster
        self.credential = credential
        self.hostCertificateAuthority = hostCertificateAuthority
        self.limits = limits
        self.backoff = backoff
    }

    /// From the command line's `--host wss://HOST:PORT`, a token file and a CA file.
    public init(
        url: String,
        cluster: String,
        tokenFile: String,
        caFile: String,
        limits: TunnelLimits = TunnelLimits(),
        backoff: ReconnectBackoff = ReconnectBackoff()
    ) throws(TunnelError) {
        let (host, port) = try Self.parse(url: url)
        let ca = try TunnelServerConfiguration.loadCertificates(caFile, what: "host CA")
        self.init(
            host: host,
            port: port,
            cluster: cluster,
            credential: .tokenFile(tokenFile),
            hostCertificateAuthority: ca,
            limits: limits,
            backoff: backoff
        )
    }

    /// `wss://HOST:PORT` (an optional `/tunnel/v1` path is accepted); `[v6]:PORT` for IPv6 literals.
    public static func parse(url: String) throws(TunnelError) -> (host: String, port: Int) {
        guard let components = URLComponents(string: url), components.scheme == "wss",
            let host = components.host, !host.isEmpty,
            components.path.isEmpty || components.path == "/" || components.path == TunnelServer.path
        else { throw .invalidHostURL(url) }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        return (bare, components.port ?? 443)
    }

    /// Reads the token file: surrounding whitespace (a trailing newline) is not part of the token.
    static func readToken(_ file: String) throws(TunnelError) -> String {
        let token: String
        do {
            token = try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        } catch {
            throw .configuration("\(file): cannot read the tunnel token: \(error.localizedDescription)")
        }
        guard !token.isEmpty else { throw .configuration("\(file): the tunnel token file is empty") }
        return token
    }
}
