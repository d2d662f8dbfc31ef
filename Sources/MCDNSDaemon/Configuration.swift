public import DNSAnswer
public import DNSServer
public import DNSWire
public import MCDNSModel

/// Everything `mcdns.yaml` says (DESIGN §3), with every default filled in and every path resolved against the
/// config file's directory (an absolute path stays as written; a relative one stays relative to the working
/// directory, which mcdns never changes).
///
/// Build one with `Configuration.load(file:)`; `Configuration()` is the configuration of an empty file.
/// Each field's documentation names its YAML key and its default.
public struct Configuration: Sendable, Equatable {
    /// The configuration file this was read from, as given, or "" for the built-in defaults.
    public var file: String
    /// `listen`: where mcdns serves.
    public var listen: Listen
    /// `zonesDir` (default `zones`, relative to the config file): RFC 1035 master files (`*.zone`) served as-is.
    public var zonesDir: String
    /// `stateDir` (default `.mcdns-state`, relative to the config file): the snapshot for warm restarts.
    public var stateDir: String
    /// `federation` (default: absent, no federation names): kubefed-style names, DESIGN §4.1.
    public var federation: Federation?
    /// `clusterset`: MCS names, DESIGN §4.2.
    public var clusterset: Clusterset
    /// `ttl`: the TTLs of generated answers.
    public var ttl: TTL
    /// `locality`: how answers prefer nearby clusters, and how a requester's cluster is found (DESIGN §4.3).
    public var locality: Locality
    /// `staleGracePeriod` (default `120s`): how long a disconnected member's last-known targets keep serving.
    public var staleGracePeriod: Duration
    /// `export`: which Services are published.
    public var export: Export
    /// `clusters` (default: none): the member clusters.
    public var clusters: [Cluster]
    /// `tunnel` (default: absent, no tunnel server): the reverse-tunnel listener members dial (DESIGN §6).
    public var tunnel: Tunnel?
    /// `host` (default: absent, no status writing): where ServiceDNSRecords and the leader Lease live.
    public var host: Host?
    /// `dns`: tuning of the DNS listeners.
    public var dns: DNS
    /// `admin`: who may use the admin HTTP API.
    public var admin: Admin
    /// `transfer` (default: absent, no zone transfer): AXFR/IXFR to secondaries, TSIG keys and NOTIFY targets.
    public var transfer: Transfer?

    public init(file: String = "", directory: String = ".") {
        self.file = file
        self.listen = Listen()
        self.zonesDir = ConfigurationPath.resolve("zones", against: directory)
        self.stateDir = ConfigurationPath.resolve(".mcdns-state", against: directory)
        self.federation = nil
        self.clusterset = Clusterset()
        self.ttl = TTL()
        self.locality = Locality()
        self.staleGracePeriod = .seconds(120)
        self.export = Export()
        self.clusters = []
        self.tunnel = nil
        self.host = nil
        self.dns = DNS()
        self.admin = Admin()
        self.transfer = nil
    }

    /// `admin`: the admin API's bearer token. Listening beyond loopback requires one.
    public struct Admin: Sendable, Equatable {
        /// `admin.tokenFile` (default: none): a file whose content (surrounding whitespace trimmed) is the bearer
        /// token clients send as `Authorization: Bearer TOKEN`. A file rather than an inline value, so the
        /// configuration can be shared and versioned without the secret.
        public var tokenFile: String?
        /// `admin.requireToken` (default false): require the token on loopback too (it is always required when
        /// `listen.admin` is not a loopback address). `/healthz` and `/readyz` never need it (probes).
        public var requireToken = false
        /// `admin.maxConnections` (default 128): open connections at most; one more closes the connection idle for
        /// longest (or, when every one is busy, the new one).
        public var maxConnections = 128
        /// `admin.idleTimeout` (default 10 s): a connection with no request in progress for this long is closed.
        public var idleTimeout: Duration = .seconds(10)
        /// `admin.requestTimeout` (default 30 s): a request not answered this long after its head (a body that
        /// trickles in) closes its connection.
        public var requestTimeout: Duration = .seconds(30)

        public init() {}
    }

    /// `listen`.
    public struct Listen: Sendable, Equatable {
        /// `listen.dns` (default `["127.0.0.1:5300"]`): UDP and TCP addresses for DNS.
        public var dns: [ListenAddress] = [ListenAddress(ipv4: 127, 0, 0, 1, port: 5300)]
        /// `listen.admin` (default `127.0.0.1:9253`): the admin HTTP API.
        public var admin = ListenAddress(ipv4: 127, 0, 0, 1, port: 9253)

        public init() {}
    }

    /// `federation`: both fields are required when the section is present.
    public struct Federation: Sendable, Equatable {
        /// `federation.name`: the `<fed>` label of `<svc>.<ns>.<fed>.svc.<domain>`.
        public var name: String
        /// `federation.domain`: the zone the federation names live in.
        public var domain: DomainName

        public init(name: String, domain: DomainName) {
            self.name = name
            self.domain = domain
        }
    }

    /// `clusterset`.
    public struct Clusterset: Sendable, Equatable {
        /// `clusterset.domain` (default `clusterset.local`).
        // The literal is a valid name, so the conversion cannot fail.
        public var domain: DomainName = (try? DomainName("clusterset.local")) ?? .root

        public init() {}
    }

    /// `ttl`, in seconds (0 to 2147483647, RFC 2181 §8).
    public struct TTL: Sendable, Equatable {
        /// `ttl.record` (default 30): healthy generated answers.
        public var record: UInt32 = 30
        /// `ttl.degraded` (default 5): fallback steps and stale data.
        public var degraded: UInt32 = 5
        /// `ttl.negative` (default 5): NODATA for a service with no healthy target.
        public var negative: UInt32 = 5

        public init() {}
    }

    /// `locality`.
    public struct Locality: Sendable, Equatable {
        /// `locality.policy` (default `[cluster, zone, region, global]`): the first level with healthy targets wins.
        public var policy: [LocalityLevel] = LocalityLevel.allCases
        /// `locality.requesters`.
        public var requesters = Requesters()

        public init() {}
    }

    /// `locality.requesters`: how the requester's cluster is recognised.
    public struct Requesters: Sendable, Equatable {
        /// `locality.requesters.ednsLocalOption` (default 65518 = 0xffee): the EDNS0 option code whose value is
        /// the requesting cluster's name.
        public var ednsLocalOption: UInt16 = 0xffee
        /// `locality.requesters.subnets` (default none): source or client subnets mapped to clusters.
        public var subnets: [Subnet] = []

        public init() {}
    }

    /// One entry of `locality.requesters.subnets`.
    public struct Subnet: Sendable, Equatable {
        /// `cidr`: an IPv4 or IPv6 prefix without host bits (`10.1.0.0/16`).
        public var cidr: IPNetwork
        /// `cluster`: a name from `clusters`.
        public var cluster: ClusterID

        public init(cidr: IPNetwork, cluster: ClusterID) {
            self.cidr = cidr
            self.cluster = cluster
        }
    }

    /// `export`: which Services of the members are published.
    public struct Export: Sendable, Equatable {
        /// `export.annotation` (default `mcdns.io/export`): a Service with this annotation set to "true" is exported.
        public var annotation = "mcdns.io/export"
        /// `export.serviceExport` (default true): a ServiceExport object (MCS API) exports its Service too.
        public var serviceExport = true
        /// `export.namespaces` (default `[]` = every namespace): only these namespaces are considered.
        public var namespaces: [String] = []

        public init() {}
    }

    /// `dns`: tuning of the DNS listeners.
    public struct DNS: Sendable, Equatable {
        /// `dns.maxUDPPayload` (default 1232, 512 to 65507): the largest UDP response sent to an EDNS client.
        public var maxUDPPayload = 1232
        /// `dns.rotate` (default true): the addresses of a generated name (A, AAAA, SRV targets of one priority)
        /// rotate from query to query; static zones are served as written.
        public var rotate = true
        /// `dns.tcpIdleTimeout` (default `10s`): an idle TCP connection is closed after this long.
        public var tcpIdleTimeout: Duration = .seconds(10)
        /// `dns.tcpMessageTimeout` (default `2s`): a TCP message must arrive whole this soon after its first byte.
        public var tcpMessageTimeout: Duration = .seconds(2)
        /// `dns.maxTCPConnections` (default 512): open TCP connections in total; a new one beyond it closes the
        /// connection that has gone longest without a query.
        public var maxTCPConnections = 512
        /// `dns.maxTCPConnectionsPerSource` (default 16): open TCP connections from one client address.
        public var maxTCPConnectionsPerSource = 16
        /// `dns.maxTCPPipelined` (default 64): answers on one connection waiting for the client to read them
        /// before the server stops reading its queries.
        public var maxTCPPipelined = 64
        /// `dns.udpThreadsPerAddress` (default 0 = one per core): UDP sockets (each with its thread) per address.
        public var udpThreadsPerAddress = 0
        /// `dns.rateLimit` (default: off): response rate limiting of UDP responses (see the README for each key).
        public var rateLimit: RateLimitConfiguration = .off
        /// `dns.cookies` (default: off): DNS cookies, RFC 7873, with RFC 9018 server cookies.
        public var cookies = Cookies()

        public init() {}
    }

    /// `dns.cookies`.
    public struct Cookies: Sendable, Equatable {
        /// `dns.cookies.enabled` (default false): answer COOKIE options with server cookies.
        public var enabled = false
        /// `dns.cookies.secretFile` (default: none, a random secret made at start that rotates every `rotation`):
        /// a file with one or two lines of 32 hex digits; cookies are made with the first, and those made with the
        /// second are accepted too. Servers sharing the file accept each other's cookies (anycast).
        public var secretFile: String? = nil
        /// `dns.cookies.rotation` (default `24h`): how long a generated secret makes cookies; the previous one is
        /// still accepted for one more period. Ignored with `secretFile`.
        public var rotation: Duration = .seconds(86_400)

        public init() {}
    }
}
