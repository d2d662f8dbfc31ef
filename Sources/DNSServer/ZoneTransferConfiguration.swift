public import DNSAnswer
public import DNSWire

/// Who may transfer which zones, with which keys, and whom mcdns notifies (the daemon builds it from `transfer:`).
public struct ZoneTransferConfiguration: Sendable, Equatable {
    /// The zones secondaries may transfer and get NOTIFY for; nil = every served zone.
    public var zones: [DomainName]?
    /// Source prefixes allowed to transfer. Empty = nobody: a transfer is always allowed explicitly.
    public var allow: [IPNetwork]
    /// The TSIG keys requests may be signed with.
    public var keys: [TSIGKey]
    /// Refuse unsigned transfer requests (NOTAUTH, TSIG error BADKEY is not sent: the request had no TSIG).
    public var requireTSIG: Bool
    /// Transfers served at once; one more is REFUSED (the secondary retries).
    public var maxConcurrentTransfers: Int
    /// Secondaries sent NOTIFY on each new serial of a transferred zone.
    public var notify: [ListenAddress]
    /// The key NOTIFY messages are signed with (one of `keys`), nil = unsigned.
    public var notifyKey: TSIGKey?
    /// The first retry of an unanswered NOTIFY; each next one waits twice as long, up to `notifyMaxInterval`.
    public var notifyRetry: Duration
    public var notifyMaxInterval: Duration

    public init(
        zones: [DomainName]? = nil,
        allow: [IPNetwork] = [],
        keys: [TSIGKey] = [],
        requireTSIG: Bool = false,
        maxConcurrentTransfers: Int = 4,
        notify: [ListenAddress] = [],
        notifyKey: TSIGKey? = nil,
        notifyRetry: Duration = .seconds(1),
        notifyMaxInterval: Duration = .seconds(60)
    ) {
        self.zones = zones
        self.allow = allow
        self.keys = keys
        self.requireTSIG = requireTSIG
        self.maxConcurrentTransfers = maxConcurrentTransfers
        self.notify = notify
        self.notifyKey = notifyKey
        self.notifyRetry = notifyRetry
        self.notifyMaxInterval = notifyMaxInterval
    }

    /// Whether `zone` is transferred (and notified) under this configuration.
    public func transfers(_ zone: DomainName) -> Bool { zones?.contains(zone) ?? true }
}
