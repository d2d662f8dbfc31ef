import DNSAnswer

/// One UDP thread's response rate limiter: a fixed table of token buckets, allocated once, read and written only
/// by its thread (no lock, no allocation per response). See `RateLimitConfiguration` for the semantics.
///
/// A bucket is keyed by (source prefix, response class, name key from `ResponseOutcome`), hashed with a seed
/// chosen at random per table, so an attacker cannot aim collisions. The table is set-associative: a key probes
/// the four buckets of one 64-byte line. A key not found takes a free bucket (never used, or idle for longer
/// than a window, which a full refill would make indistinguishable from new), else the line's least recently
/// used bucket: the newcomer then starts with one and a half seconds' worth, not a full window (Knot's "slow
/// start" after a collision), so evicting buckets by collision buys an attacker little.
///
/// Time comes in as monotonic milliseconds (the batch's clock read, or a test's), so tests step it.
final class ResponseRateLimiter {
    enum Action: UInt8 {
        case pass
        /// Send the slipped response instead (no records, TC=1 or BADCOOKIE).
        case slip
        case drop
    }

    struct Bucket {
        /// The key's hash with its low bit set; 0 = never used.
        var tag: UInt32
        /// Milliseconds of the last visit (wrapping).
        var time: UInt32
        /// Thousandths of a response.
        var tokens: Int32
        var slipCount: UInt16
        var unused: UInt16
    }

    static let ways = 4

    private let buckets: UnsafeMutablePointer<Bucket>
    private let lineMask: UInt32
    private let seed: UInt32
    /// Rates by `ResponseClass` raw value.
    private let rates: (Int32, Int32, Int32, Int32, Int32, Int32)
    private let windowMilliseconds: UInt32
    private let windowSeconds: Int32
    private let slip: UInt16
    private let ipv4Mask: UInt32
    private let ipv6HighMask: UInt64
    private let ipv6LowMask: UInt64
    private let exempt: [IPNetwork]

    init(configuration: RateLimitConfiguration, seed: UInt32 = UInt32.random(in: 0...UInt32.max)) {
        var size = Self.ways
        while size < configuration.tableSize { size <<= 1 }
        buckets = .allocate(capacity: size)
        buckets.initialize(repeating: Bucket(tag: 0, time: 0, tokens: 0, slipCount: 0, unused: 0), count: size)
        lineMask = UInt32(size / Self.ways - 1)
        self.seed = seed
        let r = configuration.rates.map { Int32($0) }
        rates = (r[0], r[1], r[2], r[3], r[4], r[5])
        windowSeconds = Int32(configuration.windowSeconds)
        windowMilliseconds = UInt32(configuration.windowSeconds) * 1000
        slip = UInt16(configuration.slip)
        ipv4Mask = configuration.ipv4PrefixLength >= 32 ? .max : ~(UInt32.max >> UInt32(configuration.ipv4PrefixLength))
        let v6 = configuration.ipv6PrefixLength
        ipv6HighMask = v6 >= 64 ? .max : ~(UInt64.max >> UInt64(v6))
        ipv6LowMask = v6 <= 64 ? 0 : v6 >= 128 ? .max : ~(UInt64.max >> UInt64(v6 - 64))
        exempt = configuration.exempt
    }

    deinit { buckets.deallocate() }

    @inline(__always)
    private func rate(of responseClass: ResponseClass) -> Int32 {
        switch responseClass {
        case .answer: return rates.0
        case .noData: return rates.1
        case .nxDomain: return rates.2
        case .referral: return rates.3
        case .wildcard: return rates.4
        case .error: return rates.5
        }
    }

    /// Decides what happens to one response about to be sent to `source`.
    @inline(__always)
    func check(source: RequesterAddress, outcome: ResponseOutcome, nowMilliseconds: UInt64) -> Action {
        // A valid server cookie proves the source address (RFC 7873 §5.2.5): not limited.
        if outcome.cookie == .valid { return .pass }
        let rate = rate(of: outcome.responseClass)
        guard rate > 0 else { return .pass }
        var hash: UInt64
        switch source {
        case .unknown: return .pass
        case .ipv4(let address):
            hash = UInt64(address & ipv4Mask)
        case .ipv6(let high, let low):
            hash = Self.mix(high & ipv6HighMask) ^ (low & ipv6LowMask) ^ 0x6
        }
        hash = Self.mix(hash ^ UInt64(outcome.responseClass.rawValue) << 56 ^ UInt64(outcome.nameKey) << 24
                        ^ UInt64(seed))
        let tag = UInt32(truncatingIfNeeded: hash >> 32) | 1
        let line = buckets + Int(UInt32(truncatingIfNeeded: hash) & lineMask) * Self.ways
        let now = UInt32(truncatingIfNeeded: nowMilliseconds)
        let capacity = rate * windowSeconds * 1000

        var bucket = line
        var found = false
        var oldest = line
        var free: UnsafeMutablePointer<Bucket>? = nil
        for way in 0..<Self.ways {
            let candidate = line + way
            if candidate.pointee.tag == tag {
                bucket = candidate
                found = true
                break
            }
            if free == nil && (candidate.pointee.tag == 0 || now &- candidate.pointee.time > windowMilliseconds) {
                free = candidate
            }
            if now &- candidate.pointee.time > now &- oldest.pointee.time { oldest = candidate }
        }
        if !found {
            if let free {
                bucket = free
                bucket.pointee = Bucket(tag: tag, time: now, tokens: capacity, slipCount: 0, unused: 0)
            } else {
                bucket = oldest
                bucket.pointee = Bucket(tag: tag, time: now, tokens: rate * 1500, slipCount: 0, unused: 0)
            }
        } else {
            // Refill: `rate` responses a second is `rate` thousandths a millisecond.
            let elapsed = min(now &- bucket.pointee.time, windowMilliseconds)
            if elapsed > 0 {
                bucket.pointee.time = now
                bucket.pointee.tokens = min(capacity, bucket.pointee.tokens &+ Int32(elapsed) &* rate)
            }
        }
        if bucket.pointee.tokens >= 1000 {
            bucket.pointee.tokens -= 1000
            return .pass
        }
        // Limited. The exempt list is read only here, so it costs nothing on the common path.
        if !exempt.isEmpty && isExempt(source) { return .pass }
        guard slip > 0 else { return .drop }
        bucket.pointee.slipCount &+= 1
        if bucket.pointee.slipCount >= slip {
            bucket.pointee.slipCount = 0
            return .slip
        }
        return .drop
    }

    private func isExempt(_ source: RequesterAddress) -> Bool {
        switch source {
        case .unknown:
            return false
        case .ipv4(let value):
            return withUnsafeBytes(of: value.bigEndian) { address in
                exempt.contains { $0.contains(address) }
            }
        case .ipv6(let high, let low):
            return withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { address in
                exempt.contains { $0.contains(address) }
            }
        }
    }

    /// A 64-bit finalizer (splitmix64's): every input bit moves every output bit.
    @inline(__always)
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
