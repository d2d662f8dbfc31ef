public import DNSServer
public import MCDNSModel

extension Configuration {
    /// One entry of `clusters`.
    public struct Cluster: Sendable, Equatable {
        /// `name` (required): a DNS label, unique among clusters; it appears in names and metrics.
        public var name: ClusterID
        /// `region` (optional): else read from the nodes' `topology.kubernetes.io/region` label.
        public var region: String?
        /// `zones` (default none): else read from the nodes' `topology.kubernetes.io/zone` label.
        public var zones: [String]
        /// `source` (required): where this member's Services come from.
        public var source: ClusterSource
        /// `drain` (default false): take the cluster out of every answer while still watching it (README
        /// "Draining"); combined with `mcdns drain`: a cluster is drained when either says so.
        public var drain: Bool

        public init(name: ClusterID, region: String? = nil, zones: [String] = [], source: ClusterSource,
                    drain: Bool = false) {
            self.name = name
            self.region = region
            self.zones = zones
            self.source = source
            self.drain = drain
        }
    }

    /// `clusters[].source`: exactly one of its forms.
    public enum ClusterSource: Sendable, Equatable {
        /// `{ kubeconfig: FILE, context: NAME }`: the member's API server, dialled directly; `context` defaults to
        /// the kubeconfig's current context.
        case kubeconfig(path: String, context: String?)
        /// `{ tunnel: {} }`: the member's agent dials our `tunnel` listener.
        case tunnel
        /// `{ manifests: DIR }`: a directory of Kubernetes YAML, watched for changes.
        case manifests(directory: String)
        /// `{ inCluster: true }`: the API server of the cluster mcdns runs in, with its service account.
        case inCluster
    }

    /// `tunnel`: the reverse-tunnel listener (DESIGN §6).
    public struct Tunnel: Sendable, Equatable {
        /// `tunnel.listen` (default `0.0.0.0:8443`).
        public var listen = ListenAddress(ipv4: 0, 0, 0, 0, port: 8443)
        /// `tunnel.tls` (required): the host's certificate and key, PEM files.
        public var tls: TLS
        /// `tunnel.clusters` (default none): per-cluster agent credentials, keyed by cluster name.
        public var clusters: [ClusterID: TunnelClient]

        public init(
            listen: ListenAddress = ListenAddress(ipv4: 0, 0, 0, 0, port: 8443),
            tls: TLS,
            clusters: [ClusterID: TunnelClient] = [:]
        ) {
            self.listen = listen
            self.tls = tls
            self.clusters = clusters
        }
    }

    /// `tunnel.tls`.
    public struct TLS: Sendable, Equatable {
        /// `cert` (required): PEM certificate chain.
        public var certificate: String
        /// `key` (required): PEM private key.
        public var key: String
        /// `clientCA` (optional): PEM CA whose client certificates authenticate agents. A certificate speaks for
        /// the cluster named by its subject CN, else by its first DNS subject alternative name, which must be a
        /// key of `tunnel.clusters`; an expired certificate, or one from another CA, fails the TLS handshake.
        public var clientCA: String?

        public init(certificate: String, key: String, clientCA: String? = nil) {
            self.certificate = certificate
            self.key = key
            self.clientCA = clientCA
        }
    }

    /// `tunnel.clusters.NAME`.
    public struct TunnelClient: Sendable, Equatable {
        /// `tokenSHA256`: the SHA-256 of the agent's token, 64 hex digits (lower-cased here). The host never stores
        /// the token itself. Required unless `tunnel.tls.clientCA` is set (nil: client certificates only).
        public var tokenSHA256: String?
        /// `previousTokenSHA256` (optional): the digest of the token being replaced, accepted beside `tokenSHA256`
        /// while a rotation is under way (zero downtime: agents still holding the old token keep connecting);
        /// remove it once every agent has the new token.
        public var previousTokenSHA256: String?

        public init(tokenSHA256: String?, previousTokenSHA256: String? = nil) {
            self.tokenSHA256 = tokenSHA256
            self.previousTokenSHA256 = previousTokenSHA256
        }
    }

    /// `host`: the cluster where ServiceDNSRecords and the leader Lease live.
    public struct Host: Sendable, Equatable {
        /// `{ kubeconfig: FILE, context: NAME }` or `{ inCluster: true }` (exactly one).
        public var credentials: HostCredentials
        /// `host.namespace` (default `mcdns-system`).
        public var namespace: String
        /// `host.leaseDuration` (default 15s): how long the leader's Lease stays valid without renewal.
        public var leaseDuration: Duration = .seconds(15)
        /// `host.renewDeadline` (default 10s): a leader that could not renew for this long stops leading.
        public var renewDeadline: Duration = .seconds(10)
        /// `host.retryPeriod` (default 2s): how often replicas try to acquire or renew the Lease.
        public var retryPeriod: Duration = .seconds(2)
        /// `host.statusResync` (default 30s): how often the leader compares every record's status anyway.
        public var statusResync: Duration = .seconds(30)

        public init(credentials: HostCredentials, namespace: String = "mcdns-system") {
            self.credentials = credentials
            self.namespace = namespace
        }
    }

    /// `host` credentials.
    public enum HostCredentials: Sendable, Equatable {
        case kubeconfig(path: String, context: String?)
        case inCluster
    }
}
