import Foundation
public import NIOSSL

/// Everything the host's tunnel listener needs: where to listen, its TLS identity, and per cluster how an agent
/// proves it speaks for that cluster.
public struct TunnelServerConfiguration: Sendable {
    /// A cluster's credential as the host stores it: never the token itself.
    public struct ClusterCredential: Sendable, Equatable {
        /// Lower-case hex SHA-256 of the agent's bearer token, or nil when the cluster uses client certificates only.
        public var tokenSHA256: String?
        /// The digest of the token being rotated out, accepted as well until it is removed: two valid tokens per
        /// cluster while agents move to the new one.
        public var previousTokenSHA256: String?

        public init(tokenSHA256: String?, previousTokenSHA256: String? = nil) {
            self.tokenSHA256 = tokenSHA256?.lowercased()
            self.previousTokenSHA256 = previousTokenSHA256?.lowercased()
        }
    }

    public var host: String
    /// 0 picks a free port; read the bound one back from `TunnelServer.localPort`.
    public var port: Int
    public var certificateChain: [NIOSSLCertificate]
    public var privateKey: NIOSSLPrivateKey
    /// CA that signs agents' client certificates; nil means client certificates are not accepted (tokens only).
    /// A certificate's cluster is its subject CN, else its first DNS subject alternative name.
    public var clientCertificateAuthority: [NIOSSLCertificate]?
    public var clusters: [String: ClusterCredential]
    public var limits: TunnelLimits

    public init(
        host: String,
        port: Int,
        certificateChain: [NIOSSLCertificate],
        privateKey: NIOSSLPrivateKey,
        clientCertificateAuthority: [NIOSSLCertificate]? = nil,
        clusters: [String: ClusterCredential],
        limits: TunnelLimits = TunnelLimits()
    ) {
        self.host = host
        self.port = port
        self.certificateChain = certificateChain
        self.privateKey = privateKey
        self.clientCertificateAuthority = clientCertificateAuthority
        self.clusters = clusters
        self.limits = limits
    }

    /// Loads the TLS identity (and the optional client CA) from PEM files.
    public init(
        host: String,
        port: Int,
        certificateFile: String,
        keyFile: String,
        clientCAFile: String? = nil,
        clusters: [String: ClusterCredential],
        limits: TunnelLimits = TunnelLimits()
    ) throws(TunnelError) {
        let chain = try Self.loadCertificates(certificateFile, what: "tunnel TLS certificate")
        let key: NIOSSLPrivateKey
        do {
            key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        } catch {
            throw .configuration("\(keyFile): cannot read the tunnel TLS key as PEM: \(error)")
        }
        let clientCA = try clientCAFile.map { file throws(TunnelError) in
            try Self.loadCertificates(file, what: "client CA")
        }
        self.init(
            host: host,
            port: port,
            certificateChain: chain,
            privateKey: key,
            clientCertificateAuthority: clientCA,
            clusters: clusters,
            limits: limits
        )
    }

    static func loadCertificates(_ file: String, what: String) throws(TunnelError) -> [NIOSSLCertificate] {
        let certificates: [NIOSSLCertificate]
        do {
            certificates = try NIOSSLCertificate.fromPEMFile(file)
        } catch {
            throw .configuration("\(file): cannot read the \(what) as PEM: \(error)")
        }
        guard !certificates.isEmpty else { throw .configuration("\(file): no certificate in the \(what) file") }
        return certificates
    }

    /// Checks the hex digests so a typo is reported at start, not as "wrong token" at the first dial.
    public func validate() throws(TunnelError) {
        for (name, credential) in clusters {
            if let digest = credential.tokenSHA256, TokenDigest(hex: digest) == nil {
                throw .configuration(
                    "tunnel.clusters.\(name).tokenSHA256 must be 64 hex digits (sha256sum of the token file)"
                )
            }
            if let digest = credential.previousTokenSHA256, TokenDigest(hex: digest) == nil {
                throw .configuration(
                    "tunnel.clusters.\(name).previousTokenSHA256 must be 64 hex digits (sha256sum of the old token file)"
                )
            }
        }
    }
}
