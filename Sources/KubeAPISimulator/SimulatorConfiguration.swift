import Foundation

/// How a simulator listens, who may talk to it, and the timings of its watches.
public struct SimulatorConfiguration: Sendable {
    /// Files for HTTPS. With `clientCAPath`, a client certificate that verifies against that CA authenticates its
    /// subject's common name as the user (a request without a certificate falls back to the bearer token).
    public struct TLS: Sendable {
        public var certificatePath: String
        public var keyPath: String
        public var clientCAPath: String?

        public init(certificatePath: String, keyPath: String, clientCAPath: String? = nil) {
            self.certificatePath = certificatePath
            self.keyPath = keyPath
            self.clientCAPath = clientCAPath
        }
    }

    /// The TCP port on 127.0.0.1; 0 picks a free one (read it back from `KubeAPISimulator.port`).
    public var port: Int
    /// Bearer token -> user name. An unknown token is answered 401. When empty and no client CA is configured,
    /// authentication is off and every request acts as "admin".
    public var tokens: [String: String]
    /// Per resource, the users allowed to use it (every verb); a resource without an entry is open to every
    /// authenticated user. Others get the transcripts' 403 Forbidden body.
    public var allowedUsers: [SimResource: Set<String>]
    /// Whether a request without credentials is let in as "system:anonymous" (then answered 403 on resources, as
    /// transcript 52 shows) or answered 401 (the apiserver's `--anonymous-auth=false`).
    public var anonymousAuth: Bool
    public var tls: TLS?
    /// How often an open watch with `allowWatchBookmarks=true` gets a BOOKMARK. The apiserver sends them about
    /// once a minute; tests want them sooner.
    public var bookmarkInterval: Duration
    /// How long a watch without `timeoutSeconds` stays open before the server ends it normally (the apiserver's
    /// default is a random 30–60 min).
    public var defaultWatchTimeout: Duration
    /// The largest page a list answers; a larger `limit` is cut down to this (the apiserver allows any limit).
    public var maxPageSize: Int
    /// The git version /version reports.
    public var serverVersion: String
    /// etcd's revision before the first write: 1 for a new cluster; higher for a server with a history, so that two
    /// simulators' resourceVersions are far apart (as two real clusters' are).
    public var initialResourceVersion: UInt64
    /// The uid of the `kube-system` Namespace (`GET /api/v1/namespaces/kube-system`): the cluster's identity, as
    /// the MCS ClusterId KEP suggests (nil: a random one). A new cluster gets a new one; an etcd restored from
    /// backup keeps it.
    public var kubeSystemUID: String
    /// The namespaces that exist; nil means every namespace does. A create in any other namespace is answered as
    /// the apiserver's NamespaceLifecycle admission answers it: 404 `namespaces "NS" not found`.
    public var namespaces: Set<String>? = nil
    /// Resources whose CRD is not installed (yet): every request on them is answered 404 "the server could not
    /// find the requested resource", as for any path the apiserver does not serve, and discovery leaves them out.
    /// `KubeAPISimulator.install(_:)` serves one from then on.
    public var uninstalledResources: Set<SimResource> = []
    /// Server-side printing: a resource with columns here (a CRD's `additionalPrinterColumns`) answers a list or
    /// get that asks for `application/json;as=Table;v=v1;g=meta.k8s.io` with a Table, so `kubectl get` shows those
    /// columns; other resources answer plain JSON and kubectl falls back to NAME and AGE.
    public var printerColumns: [SimResource: [SimPrinterColumn]] = [:]

    public init(
        port: Int = 0,
        tokens: [String: String] = [:],
        allowedUsers: [SimResource: Set<String>] = [:],
        anonymousAuth: Bool = true,
        tls: TLS? = nil,
        bookmarkInterval: Duration = .seconds(1),
        defaultWatchTimeout: Duration = .seconds(1800),
        maxPageSize: Int = 500,
        serverVersion: String = "v1.36.2",
        initialResourceVersion: UInt64 = 1,
        kubeSystemUID: String? = nil
    ) {
        self.port = port
        self.tokens = tokens
        self.allowedUsers = allowedUsers
        self.anonymousAuth = anonymousAuth
        self.tls = tls
        self.bookmarkInterval = bookmarkInterval
        self.defaultWatchTimeout = defaultWatchTimeout
        self.maxPageSize = maxPageSize
        self.serverVersion = serverVersion
        self.initialResourceVersion = initialResourceVersion
        self.kubeSystemUID = kubeSystemUID ?? UUID().uuidString.lowercased()
    }

    var authenticationEnabled: Bool { !tokens.isEmpty || tls?.clientCAPath != nil }
}
