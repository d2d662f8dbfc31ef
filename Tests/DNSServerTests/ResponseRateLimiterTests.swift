import DNSAnswer
@testable import DNSServer
import Testing

/// The rate limiter's token buckets with a stepped clock (milliseconds), no sockets.
@Suite struct ResponseRateLimiterTests {
    static func outcome(_ responseClass: ResponseClass = .answer, name: UInt32 = 42,
                        cookie: CookieVerdict = .none) -> ResponseOutcome {
        var outcome = ResponseOutcome()
        outcome.responseClass = responseClass
        outcome.nameKey = name
        outcome.cookie = cookie
        return outcome
    }

    static func limiter(rate: Int = 10, slip: Int = 2, window: Int = 1, exempt: [String] = [], tableSize: Int = 1024,
                        nxdomains: Int? = nil, errors: Int? = nil) throws -> ResponseRateLimiter {
        let configuration = try RateLimitConfiguration(
            responsesPerSecond: rate, nxdomainsPerSecond: nxdomains, errorsPerSecond: errors, slip: slip,
            windowSeconds: window, exempt: exempt.map { IPNetwork($0)! }, tableSize: tableSize)
        return ResponseRateLimiter(configuration: configuration, seed: 7)
    }

    /// Sends `count` responses at `now` and tallies what the limiter did.
    static func send(_ limiter: ResponseRateLimiter, _ count: Int, from source: RequesterAddress = .ipv4(0xC000_0201),
                     _ outcome: ResponseOutcome = outcome(), at now: UInt64) -> (pass: Int, slip: Int, drop: Int) {
        var tally = (pass: 0, slip: 0, drop: 0)
        for _ in 0..<count {
            switch limiter.check(source: source, outcome: outcome, nowMilliseconds: now) {
            case .pass: tally.pass += 1
            case .slip: tally.slip += 1
            case .drop: tally.drop += 1
            }
        }
        return tally
    }

    @Test func aBucketHoldsOneWindowAndRefillsAtTheRate() throws {
        let limiter = try Self.limiter(rate: 10, slip: 0, window: 2)
        // A new bucket holds rate × window = 20 responses.
        #expect(Self.send(limiter, 25, at: 1_000) == (20, 0, 5))
        // Half a second later, 5 more.
        #expect(Self.send(limiter, 8, at: 1_500) == (5, 0, 3))
        // Long idle refills at most one window.
        #expect(Self.send(limiter, 30, at: 60_000) == (20, 0, 10))
    }

    @Test func steadyTrafficAtTheRatePasses() throws {
        let limiter = try Self.limiter(rate: 10, slip: 0, window: 1)
        var now: UInt64 = 5_000
        var passed = 0
        for _ in 0..<100 {
            now += 100  // ten a second
            passed += Self.send(limiter, 1, at: now).pass
        }
        #expect(passed == 100)
    }

    @Test(arguments: [(0, 0, 10), (1, 10, 0), (2, 5, 5), (3, 3, 7)])
    func slipSendsEveryNthLimitedResponseTruncated(slip: Int, slipped: Int, dropped: Int) throws {
        let limiter = try Self.limiter(rate: 5, slip: slip, window: 1)
        _ = Self.send(limiter, 5, at: 1_000)
        let tally = Self.send(limiter, 10, at: 1_000)
        #expect(tally == (0, slipped, dropped))
    }

    @Test func prefixesShareABucketAndOthersDoNot() throws {
        let limiter = try Self.limiter(rate: 5, slip: 0)
        #expect(Self.send(limiter, 5, from: .ipv4(0xC000_0201), at: 1_000).pass == 5)
        // 192.0.2.200 is in the same /24: its bucket is empty too.
        #expect(Self.send(limiter, 1, from: .ipv4(0xC000_02C8), at: 1_000).pass == 0)
        // 192.0.3.1 is another /24.
        #expect(Self.send(limiter, 5, from: .ipv4(0xC000_0301), at: 1_000).pass == 5)
        // IPv6: one /56 shares, the next /56 does not.
        let a: RequesterAddress = .ipv6(0x2001_0db8_0000_0100, 1)
        let sameSlash56: RequesterAddress = .ipv6(0x2001_0db8_0000_01FF, 0xFFFF)
        let nextSlash56: RequesterAddress = .ipv6(0x2001_0db8_0000_0200, 1)
        #expect(Self.send(limiter, 5, from: a, at: 1_000).pass == 5)
        #expect(Self.send(limiter, 1, from: sameSlash56, at: 1_000).pass == 0)
        #expect(Self.send(limiter, 1, from: nextSlash56, at: 1_000).pass == 1)
    }

    @Test func classesAndNamesHaveTheirOwnBucketsAndRates() throws {
        let limiter = try Self.limiter(rate: 5, slip: 0, nxdomains: 2, errors: 0)
        #expect(Self.send(limiter, 6, Self.outcome(.answer, name: 1), at: 1_000).pass == 5)
        // Another name: its own bucket.
        #expect(Self.send(limiter, 6, Self.outcome(.answer, name: 2), at: 1_000).pass == 5)
        // Another class for the same name: its own bucket, at its own rate.
        #expect(Self.send(limiter, 6, Self.outcome(.nxDomain, name: 1), at: 1_000).pass == 2)
        #expect(Self.send(limiter, 6, Self.outcome(.noData, name: 1), at: 1_000).pass == 5)
        #expect(Self.send(limiter, 6, Self.outcome(.referral, name: 1), at: 1_000).pass == 5)
        #expect(Self.send(limiter, 6, Self.outcome(.wildcard, name: 1), at: 1_000).pass == 5)
        // errorsPerSecond 0: errors are not limited.
        #expect(Self.send(limiter, 100, Self.outcome(.error, name: 0), at: 1_000).pass == 100)
    }

    @Test func exemptPrefixesAndValidCookiesAreNeverLimited() throws {
        let limiter = try Self.limiter(rate: 2, slip: 0, exempt: ["10.0.0.0/8", "2001:db8::/32"])
        #expect(Self.send(limiter, 50, from: .ipv4(0x0A01_0203), at: 1_000).pass == 50)
        #expect(Self.send(limiter, 50, from: .ipv6(0x2001_0db8_0000_0001, 1), at: 1_000).pass == 50)
        #expect(Self.send(limiter, 50, from: .ipv4(0x0B01_0203), at: 1_000).pass == 2)
        // The same limited prefix, with a valid server cookie.
        #expect(Self.send(limiter, 50, from: .ipv4(0x0B01_0203), Self.outcome(cookie: .valid), at: 1_000).pass == 50)
        // A client cookie alone proves nothing.
        #expect(Self.send(limiter, 5, from: .ipv4(0x0B01_0203), Self.outcome(cookie: .clientOnly), at: 1_000).pass == 0)
    }

    @Test func aFullTableEvictsTheLeastRecentlyUsedWithASlowStart() throws {
        // One line of four buckets: a fifth key must evict.
        let limiter = try Self.limiter(rate: 10, slip: 0, window: 4, tableSize: 4)
        for name in UInt32(1)...4 {
            #expect(Self.send(limiter, 40, Self.outcome(name: name), at: 1_000 + UInt64(name)).pass == 40)
        }
        // Name 5 evicts name 1's bucket (the least recently used) and starts with 1.5 s worth, not 4 s.
        #expect(Self.send(limiter, 40, Self.outcome(name: 5), at: 1_010) == (15, 0, 25))
        // Name 1 comes back: a new bucket again (slow start, since nothing is free), and name 2 is gone instead.
        #expect(Self.send(limiter, 40, Self.outcome(name: 1), at: 1_011).pass == 15)
        // Names 3 and 4 kept their (empty) buckets.
        #expect(Self.send(limiter, 1, Self.outcome(name: 3), at: 1_012).pass == 0)
        // After a window of silence every bucket is free again: a new key gets a full window.
        #expect(Self.send(limiter, 50, Self.outcome(name: 6), at: 10_000).pass == 40)
    }

    @Test func anUnknownSourceIsNotLimited() throws {
        let limiter = try Self.limiter(rate: 1, slip: 0)
        #expect(Self.send(limiter, 10, from: .unknown, at: 1_000).pass == 10)
    }

    @Test func configurationRefusesWhatItCannotHold() throws {
        #expect(throws: DNSServerConfigurationError.self) { try RateLimitConfiguration(responsesPerSecond: 100_001) }
        #expect(throws: DNSServerConfigurationError.self) { try RateLimitConfiguration(responsesPerSecond: 5, slip: 11) }
        #expect(throws: DNSServerConfigurationError.self) { try RateLimitConfiguration(responsesPerSecond: 5, windowSeconds: 0) }
        #expect(throws: DNSServerConfigurationError.self) {
            try RateLimitConfiguration(responsesPerSecond: 5, ipv4PrefixLength: 33)
        }
        #expect(RateLimitConfiguration.off.isEnabled == false)
        #expect(try RateLimitConfiguration(nxdomainsPerSecond: 5).isEnabled)
    }
}
