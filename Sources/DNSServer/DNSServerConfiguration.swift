public import DNSAnswer
public import NIOCore

/// How the DNS listeners are set up: where they listen and the limits they apply to clients.
public struct DNSServerConfiguration: Sendable, Equatable {
    /// Every address is served over UDP and TCP on the same port.
    public var listen: [ListenAddress]
    /// UDP sockets (each with its own thread) per listen address, sharing the port through SO_REUSEPORT.
    public var udpThreadsPerAddress: Int
    /// What each DNS-over-TCP client may hold: timeouts, connection caps, pipelining.
    public var tcp: TCPLimits
    /// Response rate limiting of UDP responses (off by default; see `RateLimitConfiguration`).
    public var rateLimit: RateLimitConfiguration = .off
    /// DNS cookies (RFC 7873, RFC 9018 server cookies): where the server secrets come from; nil = off.
    public var cookies: CookieKeyring? = nil

    /// A TCP connection with no query and no answer taken for this long is closed.
    public var tcpIdleTimeout: Duration { tcp.idleTimeout }
    /// The most open TCP connections; a new one beyond it evicts the longest idle.
    public var maxTCPConnections: Int { tcp.maxConnections }

    public static let defaultTCPIdleTimeout = TCPLimits.defaultIdleTimeout
    public static let defaultMaxTCPConnections = TCPLimits.defaultMaxConnections

    public init(
        listen: [ListenAddress],
        udpThreadsPerAddress: Int = System.coreCount,
        tcp: TCPLimits = .defaults
    ) throws(DNSServerConfigurationError) {
        guard !listen.isEmpty else {
            throw DNSServerConfigurationError("no DNS listen address; give at least one, e.g. \"127.0.0.1:5300\"")
        }
        guard Set(listen).count == listen.count else {
            throw DNSServerConfigurationError(
                "DNS listen addresses repeat: \(listen.map(\.description).joined(separator: ", ")); list each once"
            )
        }
        guard udpThreadsPerAddress >= 1 else {
            throw DNSServerConfigurationError("udpThreadsPerAddress is \(udpThreadsPerAddress); it must be at least 1")
        }
        self.listen = listen
        self.udpThreadsPerAddress = udpThreadsPerAddress
        self.tcp = tcp
    }

    /// The same with only the idle timeout and the connection cap changed from the defaults.
    public init(
        listen: [ListenAddress],
        udpThreadsPerAddress: Int = System.coreCount,
        tcpIdleTimeout: Duration,
        maxTCPConnections: Int = defaultMaxTCPConnections
    ) throws(DNSServerConfigurationError) {
        try self.init(
            listen: listen,
            udpThreadsPerAddress: udpThreadsPerAddress,
            tcp: try TCPLimits(idleTimeout: tcpIdleTimeout, maxConnections: maxTCPConnections)
        )
    }

    /// The same, from `host:port` strings as they appear in `mcdns.yaml` (`listen.dns`).
    public init(
        listen: [String],
        udpThreadsPerAddress: Int = System.coreCount,
        tcp: TCPLimits = .defaults
    ) throws(DNSServerConfigurationError) {
        var addresses: [ListenAddress] = []
        for text in listen {
            addresses.append(try ListenAddress(parsing: text))
        }
        try self.init(listen: addresses, udpThreadsPerAddress: udpThreadsPerAddress, tcp: tcp)
    }

    /// From strings, with only the idle timeout and the connection cap changed from the defaults.
    public init(
        listen: [String],
        udpThreadsPerAddress: Int = System.coreCount,
        tcpIdleTimeout: Duration,
        maxTCPConnections: Int = defaultMaxTCPConnections
    ) throws(DNSServerConfigurationError) {
        try self.init(
            listen: listen,
            udpThreadsPerAddress: udpThreadsPerAddress,
            tcp: try TCPLimits(idleTimeout: tcpIdleTimeout, maxConnections: maxTCPConnections)
        )
    }
}
