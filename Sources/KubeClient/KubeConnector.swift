public import NIOCore

/// One HTTP request to a member's API server, as the reflector makes it.
///
/// `path` is the absolute path with its query string (`/api/v1/services?limit=500&continue=…`). The connector
/// adds what belongs to the transport: scheme, host, TLS and credentials.
public struct KubeRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    /// How long the whole exchange (head and body) may take; nil leaves it to the connector. A watch sets it a
    /// little above its `timeoutSeconds`, so the server's own close comes first.
    public var timeout: Duration?

    public init(
        method: String = "GET",
        path: String,
        headers: [(name: String, value: String)] = [],
        body: [UInt8]? = nil,
        timeout: Duration? = nil
    ) {
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }

    public static func == (lhs: KubeRequest, rhs: KubeRequest) -> Bool {
        lhs.method == rhs.method && lhs.path == rhs.path && lhs.body == rhs.body && lhs.timeout == rhs.timeout
            && lhs.headers.elementsEqual(rhs.headers) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// The answer to a `KubeRequest`: status and headers at once, the body as it arrives (a watch is one long body).
public struct KubeResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    /// Chunks in arrival order; ends when the server ends the body, throws when the connection fails.
    public var body: AsyncThrowingStream<ByteBuffer, any Error>

    public init(status: Int, headers: [(name: String, value: String)], body: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value
    }
}

/// How `KubeClient` reaches one API server: direct HTTPS (async-http-client) or a reverse-tunnel stream (DESIGN
/// §6). The reflector only ever talks through this, so it runs unchanged over either.
public protocol KubeConnector: Sendable {
    /// Sends `request` and returns once the response head has arrived. Throws when no response head comes
    /// (connection refused, TLS failure, timeout to first byte); the body stream throws when the connection
    /// breaks later. Cancelling the task that reads the body closes the request.
    func execute(_ request: KubeRequest) async throws -> KubeResponse
}
