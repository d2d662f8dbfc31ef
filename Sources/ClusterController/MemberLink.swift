public import MCDNSModel

/// A member's link health (DESIGN §5) as a small state machine whose transitions take the time as an argument.
///
/// Never synced → offline. Synced → stale when the link is lost; stale → offline once `grace` has passed without
/// the link coming back; stale or offline → synced when the source is current again. Unreachable never means
/// "the services are gone": the cache is kept throughout.
public struct MemberLink<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public private(set) var state: LinkState = .offline
    public private(set) var everSynced = false
    /// When the link was lost (while stale), to know when the grace ends.
    public private(set) var lostAt: Instant?
    /// Wall-clock seconds since the epoch: when the member became current (while synced) or when it was last
    /// current (stale, offline). This is `ClusterDNS.lastObserved`; it does not move while nothing changes, so a
    /// re-merge of an unchanged service yields an equal record.
    public private(set) var observedAt: Double?
    public let grace: Duration

    public init(grace: Duration) {
        self.grace = grace
    }

    /// The source is current. Returns whether the state changed.
    public mutating func markSynced(wallClock: Double) -> Bool {
        everSynced = true
        lostAt = nil
        guard state != .synced else { return false }
        state = .synced
        observedAt = wallClock
        return true
    }

    /// The source lost its member. Returns the instant at which the member goes offline, if it is now stale.
    public mutating func markLost(at now: Instant, wallClock: Double) -> Instant? {
        guard state == .synced else { return nil }
        state = .stale
        lostAt = now
        observedAt = wallClock
        return now.advanced(by: grace)
    }

    /// Moves a stale member whose grace has run out to offline. Returns whether the state changed.
    public mutating func expire(at now: Instant) -> Bool {
        guard state == .stale, let lostAt, lostAt.advanced(by: grace) <= now else { return false }
        state = .offline
        return true
    }
}
