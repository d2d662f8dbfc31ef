/// What one DNS-over-TCP client may hold (RFC 7766 §6.2: servers bound what each connection costs them).
///
/// A connection is closed when a message it started does not arrive whole within `messageTimeout` (a slow
/// sender), when it does nothing for `idleTimeout` (no query and no answer taken), or when answers wait unread
/// for `idleTimeout` (a slow reader). At most `maxPipelined` of its queries are answered and not yet taken by the
/// client; beyond that the server stops reading from it. A new connection beyond `maxConnectionsPerSource` from
/// one address is closed at once; one beyond `maxConnections` in total closes the connection that has gone
/// longest without a complete query instead, so a crowd of idle or slow clients cannot lock new ones out.
public struct TCPLimits: Sendable, Equatable {
    public var idleTimeout: Duration
    public var messageTimeout: Duration
    public var maxConnections: Int
    public var maxConnectionsPerSource: Int
    public var maxPipelined: Int

    public static let defaultIdleTimeout: Duration = .seconds(10)
    /// Knot allows 500 ms per read (`tcp-io-timeout`); a whole message in 2 s leaves room for a slow link.
    public static let defaultMessageTimeout: Duration = .seconds(2)
    public static let defaultMaxConnections = 512
    public static let defaultMaxConnectionsPerSource = 16
    public static let defaultMaxPipelined = 64

    public init(
        idleTimeout: Duration = defaultIdleTimeout,
        messageTimeout: Duration = defaultMessageTimeout,
        maxConnections: Int = defaultMaxConnections,
        maxConnectionsPerSource: Int = defaultMaxConnectionsPerSource,
        maxPipelined: Int = defaultMaxPipelined
    ) throws(DNSServerConfigurationError) {
        guard idleTimeout > .zero else {
            throw DNSServerConfigurationError("tcpIdleTimeout is \(idleTimeout); it must be positive")
        }
        guard messageTimeout > .zero else {
            throw DNSServerConfigurationError("tcpMessageTimeout is \(messageTimeout); it must be positive")
        }
        guard maxConnections >= 1 else {
            throw DNSServerConfigurationError("maxTCPConnections is \(maxConnections); it must be at least 1")
        }
        guard maxConnectionsPerSource >= 1 else {
            throw DNSServerConfigurationError(
                "maxTCPConnectionsPerSource is \(maxConnectionsPerSource); it must be at least 1"
            )
        }
        guard maxPipelined >= 1 else {
            throw DNSServerConfigurationError("maxTCPPipelined is \(maxPipelined); it must be at least 1")
        }
        self.idleTimeout = idleTimeout
        self.messageTimeout = messageTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerSource = maxConnectionsPerSource
        self.maxPipelined = maxPipelined
    }

    /// `idleTimeout` in the 100 ms units of edns-tcp-keepalive (RFC 7828), at least 1 and at most 65,535: what a
    /// TCP answer tells a client that asked.
    public var keepaliveTimeout: UInt16 {
        let (seconds, attoseconds) = idleTimeout.components
        return UInt16(clamping: max(1, seconds * 10 + attoseconds / 100_000_000_000_000_000))
    }

    /// The defaults (valid by construction).
    public static let defaults = TCPLimits(
        validIdleTimeout: defaultIdleTimeout,
        messageTimeout: defaultMessageTimeout,
        maxConnections: defaultMaxConnections,
        maxConnectionsPerSource: defaultMaxConnectionsPerSource,
        maxPipelined: defaultMaxPipelined
    )

    private init(
        validIdleTimeout: Duration,
        messageTimeout: Duration,
        maxConnections: Int,
        maxConnectionsPerSource: Int,
        maxPipelined: Int
    ) {
        self.idleTimeout = validIdleTimeout
        self.messageTimeout = messageTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerSource = maxConnectionsPerSource
        self.maxPipelined = maxPipelined
    }
}
