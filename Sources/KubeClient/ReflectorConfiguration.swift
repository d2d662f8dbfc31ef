/// Tuning of a `Reflector`; the defaults follow client-go, tests shorten the times.
public struct ReflectorConfiguration: Sendable, Equatable {
    /// `limit` of each list page.
    public var pageSize: Int = 500
    /// A watch asks the server to end it after a random time in this range (client-go: 5–10 minutes), so the
    /// watches of many clients do not all end together.
    public var watchTimeoutSeconds: ClosedRange<Int> = 300...600
    /// Backoff after a failure: starts here, doubles, with jitter…
    public var initialBackoff: Duration = .milliseconds(800)
    /// …up to this…
    public var maximumBackoff: Duration = .seconds(30)
    /// …and starts over after this long without a failure.
    public var backoffResetAfter: Duration = .seconds(120)
    /// A watch that delivers no byte (no event, no bookmark) for this long is taken for a dead connection and
    /// replaced. The API server sends a bookmark about once a minute, so the default leaves room for two.
    public var silenceTimeout: Duration = .seconds(150)
    /// A watch that ends sooner than this without a single event counts as a failure (backoff), not as a normal
    /// close, so a server that closes every watch at once is not hammered.
    public var minimumWatchDuration: Duration = .seconds(1)
    /// The longest watch event line accepted.
    public var maximumEventSize: Int = 4 << 20
    /// The largest list page (or error body) read.
    public var maximumListSize: Int = 1 << 30
    /// How often a kind whose API is not installed (404: the ServiceExport CRD) is looked for again.
    public var missingResourceRetry: Duration = .seconds(60)

    public init() {}
}
