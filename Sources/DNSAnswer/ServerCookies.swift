/// A 128-bit server secret (RFC 9018 §4.3's "Server Secret"): the key of the SipHash-2-4 in a server cookie.
/// Never logged or printed.
public struct CookieSecret: Sendable, Equatable {
    public var key0: UInt64
    public var key1: UInt64

    public init(key0: UInt64, key1: UInt64) {
        self.key0 = key0
        self.key1 = key1
    }

    /// From 16 bytes, as RFC 9018's examples write a secret (`e5e973e5a6b2a43f48e7dc849e37bfcf`).
    public init?(bytes: [UInt8]) {
        guard bytes.count == 16 else { return nil }
        (key0, key1) = SipHash24.key(bytes)
    }

    /// From 32 hexadecimal digits; nil for anything else.
    public init?(hex: String) {
        let digits = Array(hex.utf8)
        guard digits.count == 32 else { return nil }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: 32, by: 2) {
            guard let high = Self.nibble(digits[i]), let low = Self.nibble(digits[i + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self.init(bytes: bytes)
    }

    /// A fresh secret from the system's random source.
    public static func random() -> CookieSecret {
        var generator = SystemRandomNumberGenerator()
        return CookieSecret(key0: generator.next(), key1: generator.next())
    }

    /// The secret of rotation period `period`, derived from this one (the master): SipHash-2-4 keyed with the
    /// master over the period number, twice. Each period has its own key, and knowing one tells nothing of
    /// another without the master.
    public func derived(period: UInt64) -> CookieSecret {
        var input = (period.littleEndian, UInt64(0))
        let first = withUnsafeBytes(of: &input) { SipHash24.hash(key0: key0, key1: key1, $0) }
        input.1 = 1
        let second = withUnsafeBytes(of: &input) { SipHash24.hash(key0: key0, key1: key1, $0) }
        return CookieSecret(key0: first, key1: second)
    }

    private static func nibble(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Where server secrets come from: one master secret from which each rotation period's secret is derived
/// (`CookieSecret.derived(period:)`), or fixed secrets an operator gives (shared by anycast servers, as RFC 9018
/// §4 intends: any server holding the secret accepts the cookies of the others).
public struct CookieKeyring: Sendable, Equatable {
    enum Source: Sendable, Equatable {
        case rotating(master: CookieSecret, periodSeconds: UInt32)
        case fixed(current: CookieSecret, previous: CookieSecret?)
    }

    let source: Source

    /// Secrets that rotate every `periodSeconds`; the previous period's secret stays valid for one more period,
    /// so a cookie made just before a rotation is accepted for the hour RFC 9018 §4.3 allows.
    public static func rotating(master: CookieSecret, periodSeconds: UInt32) -> CookieKeyring {
        CookieKeyring(source: .rotating(master: master, periodSeconds: max(periodSeconds, 1)))
    }

    /// Fixed secrets: cookies are made with `current`; those made with `previous` are accepted too.
    public static func fixed(current: CookieSecret, previous: CookieSecret? = nil) -> CookieKeyring {
        CookieKeyring(source: .fixed(current: current, previous: previous))
    }

    /// The period `now` falls in (0 for fixed secrets): a server keeps `cookies(at:)` until this changes.
    public func period(at now: UInt32) -> UInt32 {
        switch source {
        case .rotating(_, let periodSeconds): return now / periodSeconds
        case .fixed: return 0
        }
    }

    /// What the responder needs to answer cookies at `now` (seconds since the Unix epoch).
    public func cookies(at now: UInt32) -> ServerCookies {
        switch source {
        case .rotating(let master, let periodSeconds):
            let period = UInt64(now / periodSeconds)
            return ServerCookies(now: now, current: master.derived(period: period),
                                 previous: period > 0 ? master.derived(period: period - 1) : nil)
        case .fixed(let current, let previous):
            return ServerCookies(now: now, current: current, previous: previous)
        }
    }
}

/// How a query's COOKIE option (RFC 7873) was judged.
public enum CookieVerdict: UInt8, Sendable {
    /// No COOKIE option, or cookies are off.
    case none
    /// A client cookie alone, or with a server cookie that is not valid (RFC 7873 §5.2.3 and §5.2.4 treat both
    /// alike): the response carries a fresh server cookie.
    case clientOnly
    /// A server cookie this server made for this client within the last hour (RFC 9018 §4.3): the client has
    /// shown it receives our responses at its address, so it is not rate-limited.
    case valid
}

/// The secrets and the time the responder answers cookies with (RFC 7873, server cookies per RFC 9018 §4:
/// version 1, three reserved bytes, a 32-bit timestamp and a SipHash-2-4 over client cookie | version |
/// reserved | timestamp | client IP). A value, built per batch of queries, so answering reads no shared state.
public struct ServerCookies: Sendable {
    public var enabled: Bool
    /// Seconds since the Unix epoch.
    public var now: UInt32
    var current: CookieSecret
    var hasPrevious: Bool
    var previous: CookieSecret

    /// A server cookie older than this is refused (RFC 9018 §4.3: one hour).
    public static let lifetime: UInt32 = 3600
    /// A valid server cookie older than this is replaced by a fresh one in the response (RFC 9018 §4.3).
    public static let renewAfter: UInt32 = 1800
    /// A timestamp further ahead than this is refused (RFC 9018 §4.3: five minutes).
    public static let allowedFuture: UInt32 = 300

    public init(now: UInt32, current: CookieSecret, previous: CookieSecret? = nil) {
        self.enabled = true
        self.now = now
        self.current = current
        self.hasPrevious = previous != nil
        self.previous = previous ?? current
    }

    /// Cookies off: a COOKIE option is ignored, as by a server that does not implement them (RFC 7873 §5.2.1).
    public static let disabled: ServerCookies = {
        var cookies = ServerCookies(now: 0, current: CookieSecret(key0: 0, key1: 0))
        cookies.enabled = false
        return cookies
    }()

    /// The hash of a version 1 server cookie for the client cookie at `client` (8 bytes), with `header` (the
    /// version byte and the three reserved bytes, as received: RFC 9018 §4.2 hashes them as they are) and
    /// `timestamp`, in the byte order the cookie carries it.
    @inline(__always)
    func hash(secret: CookieSecret, client: UnsafeRawPointer, header: UInt32, timestamp: UInt32,
              source: RequesterAddress) -> UInt64 {
        // client cookie (8) | version (1) | reserved (3) | timestamp (4) | address (4 or 16): at most 32 bytes.
        var message: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let hash = withUnsafeMutableBytes(of: &message) { buffer -> UInt64 in
            buffer.copyMemory(from: UnsafeRawBufferPointer(start: client, count: 8))
            buffer.storeBytes(of: header.bigEndian, toByteOffset: 8, as: UInt32.self)
            buffer.storeBytes(of: timestamp.bigEndian, toByteOffset: 12, as: UInt32.self)
            var length = 16
            switch source {
            case .unknown:
                break
            case .ipv4(let address):
                buffer.storeBytes(of: address.bigEndian, toByteOffset: 16, as: UInt32.self)
                length = 20
            case .ipv6(let high, let low):
                buffer.storeBytes(of: high.bigEndian, toByteOffset: 16, as: UInt64.self)
                buffer.storeBytes(of: low.bigEndian, toByteOffset: 24, as: UInt64.self)
                length = 32
            }
            return SipHash24.hash(key0: secret.key0, key1: secret.key1,
                                  UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        }
        // The cookie carries the hash's bytes least significant first, as SipHash's reference writes its output.
        return hash.littleEndian
    }

    /// Judges the COOKIE option of `query` (`length` bytes at `start`: 8, or 16 to 40) and decides the server
    /// cookie of the response: the received one when it is valid, made with the current secret and at most half
    /// an hour old (RFC 9018 §4.3), else a fresh one.
    @inline(__always)
    func judge(_ query: UnsafeRawBufferPointer, start: Int, length: Int, source: RequesterAddress,
               into parsed: inout ParsedQuery) -> CookieVerdict {
        let client = query.baseAddress! + start
        var verdict = CookieVerdict.clientOnly
        // A version 1 server cookie is 16 bytes; any other length or version is not one of ours: §5.2.4 treats it
        // as absent.
        if length == 24, query[start + 8] == 1 {
            let header = UInt32(query[start + 8]) << 24 | UInt32(query[start + 9]) << 16
                | UInt32(query[start + 10]) << 8 | UInt32(query[start + 11])
            let timestamp = UInt32(query[start + 12]) << 24 | UInt32(query[start + 13]) << 16
                | UInt32(query[start + 14]) << 8 | UInt32(query[start + 15])
            // Serial arithmetic (RFC 1982), as RFC 9018 §4.3 asks, so the 2106 wrap-around is no cliff.
            let age = Int32(bitPattern: now &- timestamp)
            if age <= Int32(Self.lifetime), age >= -Int32(Self.allowedFuture) {
                var received: UInt64 = 0
                withUnsafeMutableBytes(of: &received) {
                    $0.copyMemory(from: UnsafeRawBufferPointer(start: client + 16, count: 8))
                }
                if received == hash(secret: current, client: client, header: header, timestamp: timestamp,
                                    source: source)
                {
                    verdict = .valid
                    if age <= Int32(Self.renewAfter) && header == 0x0100_0000 {
                        parsed.cookieTimestamp = timestamp
                        parsed.cookieHash = received
                        parsed.writesCookie = true
                        return verdict
                    }
                } else if hasPrevious && received == hash(secret: previous, client: client, header: header,
                                                          timestamp: timestamp, source: source) {
                    // Valid, but made with the secret being retired: the response carries one made with the new.
                    verdict = .valid
                }
            }
        }
        parsed.cookieTimestamp = now
        parsed.cookieHash = hash(secret: current, client: client, header: 0x0100_0000, timestamp: now, source: source)
        parsed.writesCookie = true
        return verdict
    }
}
