public import DNSAnswer

/// Response rate limiting (RRL) as BIND introduced it and Knot DNS and NSD follow: responses of one class, to one
/// source prefix, about one name share a token bucket that fills at a rate and holds a few seconds' worth. Once
/// a bucket is empty, its responses are dropped, except every `slip`-th, which goes out with no records and
/// TC=1 (BADCOOKIE for a client that sent a cookie), so a real client behind a spoofed prefix still gets through
/// over TCP. UDP only: TCP cannot be spoofed and is the way around the limit.
public struct RateLimitConfiguration: Sendable, Equatable {
    /// Responses a second per bucket for answers and wildcard answers, and for every class below left nil. 0 with
    /// every class nil or 0 turns rate limiting off.
    public var responsesPerSecond: Int
    /// Per class, when set (BIND's `nxdomains-per-second` and so on); 0 leaves that class unlimited.
    public var nxdomainsPerSecond: Int?
    public var nodataPerSecond: Int?
    public var referralsPerSecond: Int?
    public var errorsPerSecond: Int?
    /// Every `slip`-th limited response goes out truncated; 0 drops every limited response, 1 truncates all.
    public var slip: Int
    /// A bucket holds at most this many seconds' worth of responses (the burst an idle prefix may send at once).
    public var windowSeconds: Int
    /// Sources are grouped by these prefixes: a bucket belongs to a /24 (IPv4) or /56 (IPv6) by default.
    public var ipv4PrefixLength: Int
    public var ipv6PrefixLength: Int
    /// Sources never limited.
    public var exempt: [IPNetwork]
    /// Buckets per UDP thread (rounded up to a power of two). 16 bytes each.
    public var tableSize: Int

    public static let defaultSlip = 2
    public static let defaultWindowSeconds = 4
    public static let defaultTableSize = 65_536
    /// The largest rate: a full bucket (rate × window, in thousandths) must fit 31 bits.
    public static let maxRate = 100_000
    public static let maxWindowSeconds = 15

    public init(
        responsesPerSecond: Int = 0,
        nxdomainsPerSecond: Int? = nil,
        nodataPerSecond: Int? = nil,
        referralsPerSecond: Int? = nil,
        errorsPerSecond: Int? = nil,
        slip: Int = defaultSlip,
        windowSeconds: Int = defaultWindowSeconds,
        ipv4PrefixLength: Int = 24,
        ipv6PrefixLength: Int = 56,
        exempt: [IPNetwork] = [],
        tableSize: Int = defaultTableSize
    ) throws(DNSServerConfigurationError) {
        for (name, rate) in [("responsesPerSecond", responsesPerSecond), ("nxdomainsPerSecond", nxdomainsPerSecond ?? 0),
                             ("nodataPerSecond", nodataPerSecond ?? 0), ("referralsPerSecond", referralsPerSecond ?? 0),
                             ("errorsPerSecond", errorsPerSecond ?? 0)]
        where !(0...Self.maxRate).contains(rate) {
            throw DNSServerConfigurationError("rate limit \(name) is \(rate); it must be from 0 to \(Self.maxRate)")
        }
        guard (0...10).contains(slip) else {
            throw DNSServerConfigurationError("rate limit slip is \(slip); it must be from 0 (drop all) to 10")
        }
        guard (1...Self.maxWindowSeconds).contains(windowSeconds) else {
            throw DNSServerConfigurationError(
                "rate limit window is \(windowSeconds)s; it must be from 1 to \(Self.maxWindowSeconds) seconds")
        }
        guard (1...32).contains(ipv4PrefixLength), (1...128).contains(ipv6PrefixLength) else {
            throw DNSServerConfigurationError(
                "rate limit prefixes are /\(ipv4PrefixLength) and /\(ipv6PrefixLength); IPv4 takes 1 to 32, IPv6 1 to 128")
        }
        guard (1...(1 << 24)).contains(tableSize) else {
            throw DNSServerConfigurationError("rate limit tableSize is \(tableSize); it must be from 1 to 16777216")
        }
        self.responsesPerSecond = responsesPerSecond
        self.nxdomainsPerSecond = nxdomainsPerSecond
        self.nodataPerSecond = nodataPerSecond
        self.referralsPerSecond = referralsPerSecond
        self.errorsPerSecond = errorsPerSecond
        self.slip = slip
        self.windowSeconds = windowSeconds
        self.ipv4PrefixLength = ipv4PrefixLength
        self.ipv6PrefixLength = ipv6PrefixLength
        self.exempt = exempt
        self.tableSize = tableSize
    }

    /// Rate limiting off.
    public static let off = try! RateLimitConfiguration()

    /// The rate of each `ResponseClass`, by raw value (0 = not limited).
    public var rates: [Int] {
        ResponseClass.allCases.map { responseClass in
            switch responseClass {
            case .answer, .wildcard: return responsesPerSecond
            case .nxDomain: return nxdomainsPerSecond ?? responsesPerSecond
            case .noData: return nodataPerSecond ?? responsesPerSecond
            case .referral: return referralsPerSecond ?? responsesPerSecond
            case .error: return errorsPerSecond ?? responsesPerSecond
            }
        }
    }

    public var isEnabled: Bool { rates.contains { $0 > 0 } }
}
