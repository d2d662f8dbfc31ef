/// The agent's reconnect delays: exponential from `initial` to `maximum`, with jitter, back to `initial` once a
/// connection has stayed up for `stableAfter`.
///
/// Pure: the caller passes how long the last connection lasted and a random source, so tests see every delay.
public struct ReconnectBackoff: Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var stableAfter: Duration
    private var attempt = 0

    public init(initial: Duration = .seconds(1), maximum: Duration = .seconds(30), stableAfter: Duration = .seconds(30))
    {
        self.initial = initial
        self.maximum = maximum
        self.stableAfter = stableAfter
    }

    /// The delay before the next dial. `connectedFor` is how long the last connection was up (nil: it never came
    /// up). Jitter spreads the delay over [½, 1] of its nominal value, so agents cut at once do not return at once.
    public mutating func nextDelay(connectedFor: Duration?, random: (ClosedRange<Double>) -> Double) -> Duration {
        if let connectedFor, connectedFor >= stableAfter { attempt = 0 }
        let nominal = min(initial * (1 << min(attempt, 30)), maximum)
        attempt += 1
        return nominal * random(0.5...1.0)
    }

    /// A delay at the maximum, used after the host drained this agent for a newer one, so two agents of one
    /// cluster do not take the tunnel from each other every second.
    public mutating func replaced() -> Duration {
        attempt = 0
        return maximum
    }
}
