/// Everything needed to reach one API server: where, how to trust it, and who we are. Built from a kubeconfig
/// (`KubeConfig.resolve`) or the in-cluster service account (`KubeClientConfiguration.inCluster`).
public struct KubeClientConfiguration: Sendable, Equatable {
    /// Where the bearer token comes from.
    public enum BearerToken: Sendable, Equatable {
        case literal(String)
        /// Re-read every `tokenFileRefreshInterval` (service-account tokens rotate).
        case file(String)
    }

    /// `scheme://host:port` (IPv6 hosts in brackets), with any path prefix of the kubeconfig's server URL.
    public var server: String
    /// PEM bytes of the CAs to trust; nil means the system trust store.
    public var certificateAuthorityPEM: [UInt8]?
    public var insecureSkipTLSVerify: Bool
    /// Verify the server's certificate (and send SNI) for this name instead of the server URL's host.
    public var tlsServerName: String?
    public var bearerToken: BearerToken?
    /// Client certificate and key, PEM.
    public var clientCertificatePEM: [UInt8]?
    public var clientKeyPEM: [UInt8]?
    public var exec: KubeExecConfig?
    /// How often a token file is re-read.
    public var tokenFileRefreshInterval: Duration
    /// For messages: `east.kubeconfig context east-1`, `in-cluster`.
    public var origin: String

    public init(
        server: String,
        certificateAuthorityPEM: [UInt8]? = nil,
        insecureSkipTLSVerify: Bool = false,
        tlsServerName: String? = nil,
        bearerToken: BearerToken? = nil,
        clientCertificatePEM: [UInt8]? = nil,
        clientKeyPEM: [UInt8]? = nil,
        exec: KubeExecConfig? = nil,
        tokenFileRefreshInterval: Duration = .seconds(60),
        origin: String
    ) {
        self.server = server
        self.certificateAuthorityPEM = certificateAuthorityPEM
        self.insecureSkipTLSVerify = insecureSkipTLSVerify
        self.tlsServerName = tlsServerName
        self.bearerToken = bearerToken
        self.clientCertificatePEM = clientCertificatePEM
        self.clientKeyPEM = clientKeyPEM
        self.exec = exec
        self.tokenFileRefreshInterval = tokenFileRefreshInterval
        self.origin = origin
    }
}
