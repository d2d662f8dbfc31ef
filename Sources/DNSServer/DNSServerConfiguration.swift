public import DNSAnswer
public import NIOCore

/// How the DNS listeners are set up: where they listen and the limits they apply to clients.
public struct DNSServerConfiguration: Sendable, Equatable {
    /// Every address is served over UDP and TCP on the same port.
    public var listen: [ListenAddress]
    /// UDP sockets (each with its own thread) per listen address, sharing the port through SO_REUSEPORT.
    public var udpThreadsPerAddress: Int
    /// A TCP connection that sends nothing for this long is closed, also when it stopped mid-message.
    public var tcpIdleTimeout: Duration
    /// Connections beyond this many are closed as soon as they are accepted.
    public var maxTCPConnections: Int
    /// Response rate limiting of UDP responses (off by default; see `RateLimitConfiguration`).
    public var rateLimit: RateLimitConfiguration = .off
    /// DNS cookies (RFC 7873, RFC 9018 server cookies): where the server secrets come from; nil = off.
    public var cookies: CookieKeyring? = nil

    public static let defaultTCPIdleTimeout: Duration = .seconds(10)
    public static let defaultMaxTCPConnections = 512

    public init(
        listen: [ListenAddress],
        udpThreadsPerAddress: Int = System.coreCount,
        tcpIdleTimeout: Duration = defaultTCPIdleTimeout,
        maxTCPConnections: Int = defaultMaxTCPConnections
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
        guard tcpIdleTimeout > .zero else {
            throw DNSServerConfigurationError("tcpIdleTimeout is \(tcpIdleTimeout); it must be positive")
        }
        guard maxTCPConnections >= 1 else {
            throw DNSServerConfigurationError("maxTCPConnections is \(maxTCPConnections); it must be at least 1")
        }
        self.listen = listen
        self.udpThreadsPerAddress = udpThreadsPerAddress
        self.tcpIdleTimeout = tcpIdleTimeout
        self.maxTCPConnections = maxTCPConnections
    }

    /// The same, from `host:port` strings as they appear in `mcdns.yaml` (`listen.dns`).
    public init(
        listen: [String],
        udpThreadsPerAddress: Int = System.coreCount,
        tcpIdleTimeout: Duration = defaultTCPIdleTimeout,
        maxTCPConnections: Int = defaultMaxTCPConnections
    ) throws(DNSServerConfigurationError) {
        var addresses: [ListenAddress] = []
        for text in listen {
            addresses.append(try ListenAddress(parsing: text))
        }
        try self.init(
            listen: addresses,
            udpThreadsPerAddress: udpThreadsPerAddress,
            tcpIdleTimeout: tcpIdleTimeout,
            maxTCPConnections: maxTCPConnections
        )
    }
}
