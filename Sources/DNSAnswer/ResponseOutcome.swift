/// The response classes of response rate limiting (BIND's and Knot's RRL): responses of one class, to one source
/// prefix, about one name share a token bucket. Derived from the `Resolution` each compiled answer was made from
/// (its RCODE, AA bit and answer count), plus whether the answer came from a wildcard.
public enum ResponseClass: UInt8, Sendable, CaseIterable {
    /// Data of the asked type.
    case answer
    /// NOERROR with no data of the asked type.
    case noData
    /// The name does not exist.
    case nxDomain
    /// A delegation: NS records of a cut below a served zone.
    case referral
    /// An answer or NODATA synthesized from a wildcard.
    case wildcard
    /// REFUSED, FORMERR, NOTIMP, BADVERS and every other error.
    case error

    /// The name in metrics and logs.
    public var name: String {
        switch self {
        case .answer: return "answer"
        case .noData: return "nodata"
        case .nxDomain: return "nxdomain"
        case .referral: return "referral"
        case .wildcard: return "wildcard"
        case .error: return "error"
        }
    }
}

/// What `AnswerTable.respond` decided about one query, for the server's rate limiter and query counters.
public struct ResponseOutcome: Sendable, Equatable {
    public var responseClass: ResponseClass = .error
    /// A hash of the name the rate-limit bucket is keyed by, as BIND and Knot choose it: the query name for answers
    /// and NODATA, the zone for NXDOMAIN (so random names under a zone share one bucket), the wildcard's owner for
    /// wildcard answers, the cut for referrals, and 0 for errors (all errors to a prefix share one bucket).
    public var nameKey: UInt32 = 0
    /// The query's COOKIE option as judged (`none` when cookies are off).
    public var cookie: CookieVerdict = .none
    /// The index in `AnswerTable.zoneOrigins` of the zone whose data answered (a name, a referral, a wildcard or an
    /// NXDOMAIN under it); -1 when the query fell in no zone or was refused before the lookup. `/metrics` counts
    /// queries by it.
    public var zone: Int = -1
    /// The query carried a TSIG record: the response must be signed (or answered with a TSIG error) by the
    /// server's keys before it is sent (RFC 8945 §5.3); the table itself never signs.
    public var signed = false
    /// The caller's turn counter: a rotating answer (`Rotation`) picks its order by it and advances it. A server
    /// keeps one outcome per thread (UDP worker) or one counter per event loop (TCP) and carries it from query to
    /// query, so consecutive answers of one name start with each of its records in turn, without a shared atomic.
    public var turn: UInt32 = 0

    public init() {}
}
