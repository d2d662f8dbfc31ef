import CMCDNSSys
import DNSAnswer
import DNSWire

/// Plain per-thread query counters (DESIGN §8: no metrics call, lock or allocation per query). Each UDP thread
/// owns one set and is its only writer; the TCP event loops share one set with atomic adds. A scrape sums the
/// sets (`QueryStatistics.totals()`), reading each counter with a relaxed atomic load.
///
/// Layout: queries by [transport][qtype bucket][rcode bucket], then the latency histogram buckets, its sum in
/// nanoseconds and its count, then rate-limited responses by [response class][action], then queries by zone slot
/// (`QueryStatistics.ZoneSlots`).
public final class QueryCounters: @unchecked Sendable {
    /// The query types counted by name, in the order of `typeBucket`; every other type lands in `other`.
    static let countedTypes: [RRType] = [.a, .aaaa, .cname, .srv, .txt, .soa, .ns, .mx, .ptr, .any]
    /// The label values of the type buckets: the counted types' mnemonics, then `other`.
    public static let typeBuckets: [String] = countedTypes.map(\.description) + ["other"]
    /// RCODEs 0 to 15 as the header carries them (`RCode.header`); 16 counts queries answered with nothing
    /// (dropped).
    public static let rcodeBuckets = 17
    static let droppedBucket = 16
    /// `typeBuckets.count` as a literal: the per-query index must not touch the array (a lazy global).
    static let typeBucketCount = 11
    /// The transports' label values, in the order of `Transport.counterIndex`.
    public static let transports: [String] = ["udp", "tcp"]
    /// Upper bounds of the latency buckets, in nanoseconds (the last bucket is +Inf).
    public static let latencyBounds: [UInt64] = [
        1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 250_000,
        500_000, 1_000_000, 10_000_000,
    ]

    static let queryCells = transports.count * typeBucketCount * rcodeBuckets
    static let latencyStart = queryCells
    static let latencyCells = latencyBounds.count + 1
    static let sumIndex = latencyStart + latencyCells
    static let countIndex = sumIndex + 1
    static let rateLimitStart = countIndex + 1
    /// What the rate limiter did to a limited response: sent it truncated (or BADCOOKIE), or dropped it.
    public static let rateLimitActions: [String] = ["slipped", "dropped"]
    static let rateLimitCells = 6 * 2
    static let zoneStart = rateLimitStart + rateLimitCells
    /// Zone slots 0 to `zoneSlots - 3` are zones by name, then one for zones past that bound and one for queries
    /// in no zone: the label set stays bounded whatever the configuration.
    public static let zoneSlots = 64
    public static let otherZoneSlot = zoneSlots - 2
    public static let noZoneSlot = zoneSlots - 1
    static let cells = zoneStart + zoneSlots

    let cells: UnsafeMutablePointer<UInt64>
    private let shared: Bool
    let zones: ZoneSlotRegistry

    /// `shared`: written by several threads (atomic adds) rather than one.
    init(shared: Bool, zones: ZoneSlotRegistry) {
        cells = .allocate(capacity: Self.cells)
        cells.initialize(repeating: 0, count: Self.cells)
        self.shared = shared
        self.zones = zones
    }

    deinit { cells.deallocate() }

    /// The bucket of `qtype`: its place in `countedTypes`, else the last (`other`).
    @inline(__always)
    static func typeBucket(_ qtype: RRType) -> Int {
        switch qtype {
        case .a: return 0
        case .aaaa: return 1
        case .cname: return 2
        case .srv: return 3
        case .txt: return 4
        case .soa: return 5
        case .ns: return 6
        case .mx: return 7
        case .ptr: return 8
        case .any: return 9
        default: return 10
        }
    }

    /// Counts one query: `response` holds the answer (`length` bytes; 0 = nothing sent).
    @inline(__always)
    func count(transport: Transport, qtype: RRType, response: UnsafeRawPointer, length: Int) {
        // The header's 4 RCODE bits are the bucket (`RCode.header`).
        let rcode = length >= 4 ? Int(response.load(fromByteOffset: 3, as: UInt8.self) & 0x0F) : Self.droppedBucket
        let index = (transport.counterIndex * Self.typeBucketCount + Self.typeBucket(qtype)) * Self.rcodeBuckets + rcode
        add(index, 1)
    }

    /// Records `queries` answered in `nanoseconds` all together (one batch): each counts with the batch's mean.
    @inline(__always)
    func latency(nanoseconds: UInt64, queries: Int) {
        guard queries > 0 else { return }
        let mean = nanoseconds / UInt64(queries)
        var bucket = 0
        while bucket < Self.latencyBounds.count && mean > Self.latencyBounds[bucket] { bucket += 1 }
        add(Self.latencyStart + bucket, UInt64(queries))
        add(Self.sumIndex, nanoseconds)
        add(Self.countIndex, UInt64(queries))
    }

    /// Counts one response the rate limiter slipped (`dropped` false) or dropped.
    @inline(__always)
    func rateLimited(_ responseClass: ResponseClass, dropped: Bool) {
        add(Self.rateLimitStart + Int(responseClass.rawValue) * 2 + (dropped ? 1 : 0), 1)
    }

    /// Counts one query in the zone `zone` of the table whose zone slots are `slots` (`ZoneSlotRegistry.slots(of:)`;
    /// `zone` is `ResponseOutcome.zone`, -1 for none).
    @inline(__always)
    func zone(_ zone: Int, slots: [Int]) {
        add(Self.zoneStart + (zone >= 0 && zone < slots.count ? slots[zone] : Self.noZoneSlot), 1)
    }

    @inline(__always)
    private func add(_ index: Int, _ amount: UInt64) {
        if shared {
            mcdns_counter_add_shared(cells + index, amount)
        } else {
            mcdns_counter_add(cells + index, amount)
        }
    }

    func load(_ index: Int) -> UInt64 { mcdns_counter_load(cells + index) }
}

extension Transport {
    /// The transport's place in the query counters' layout and in `QueryCounters.transports`.
    @inline(__always)
    var counterIndex: Int {
        switch self {
        case .udp: 0
        case .tcp: 1
        }
    }
}
