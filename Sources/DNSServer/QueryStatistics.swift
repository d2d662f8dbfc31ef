import DNSAnswer
import DNSWire
import Synchronization

/// Every counter set of one DNS service, summed on demand: what `/metrics` reads at scrape time.
public final class QueryStatistics: Sendable {
    private let sets = Mutex<[QueryCounters]>([])
    let zones = ZoneSlotRegistry()
    /// TCP queries, from every event loop.
    let tcp: QueryCounters

    public init() {
        precondition(QueryCounters.typeBucketCount == QueryCounters.typeBuckets.count)
        precondition(
            QueryCounters.countedTypes.enumerated().allSatisfy { QueryCounters.typeBucket($0.element) == $0.offset }
        )
        tcp = QueryCounters(shared: true, zones: zones)
        sets.withLock { $0.append(tcp) }
    }

    /// A new set for one UDP thread. Sets are kept after their thread ends so the totals never go down.
    func makeWorkerCounters() -> QueryCounters {
        let counters = QueryCounters(shared: false, zones: zones)
        sets.withLock { $0.append(counters) }
        return counters
    }

    /// The sums over every set.
    public func totals() -> Totals {
        var cells = [UInt64](repeating: 0, count: QueryCounters.cells)
        for set in sets.withLock({ $0 }) {
            for index in 0..<QueryCounters.cells { cells[index] &+= set.load(index) }
        }
        var queries: [Totals.Key: UInt64] = [:]
        for (t, transport) in QueryCounters.transports.enumerated() {
            for (q, type) in QueryCounters.typeBuckets.enumerated() {
                for rcode in 0..<QueryCounters.rcodeBuckets {
                    let value = cells[(t * QueryCounters.typeBuckets.count + q) * QueryCounters.rcodeBuckets + rcode]
                    guard value > 0 else { continue }
                    queries[Totals.Key(transport: transport, type: type, rcode: Totals.rcodeName(rcode))] = value
                }
            }
        }
        let buckets = (0..<QueryCounters.latencyCells).map { cells[QueryCounters.latencyStart + $0] }
        var rateLimited: [Totals.RateLimitKey: UInt64] = [:]
        for responseClass in ResponseClass.allCases {
            for (a, action) in QueryCounters.rateLimitActions.enumerated() {
                let value = cells[QueryCounters.rateLimitStart + Int(responseClass.rawValue) * 2 + a]
                guard value > 0 else { continue }
                rateLimited[Totals.RateLimitKey(responseClass: responseClass.name, action: action)] = value
            }
        }
        var zoneCounts: [String: UInt64] = [:]
        let names = zones.names
        for slot in 0..<QueryCounters.zoneSlots {
            let value = cells[QueryCounters.zoneStart + slot]
            let name: String
            switch slot {
            case QueryCounters.noZoneSlot: name = "none"
            case QueryCounters.otherZoneSlot: name = "other"
            default:
                guard slot < names.count else { continue }
                name = names[slot]
            }
            zoneCounts[name] = value
        }
        return Totals(
            queries: queries,
            latencyBuckets: buckets,
            latencySumNanoseconds: cells[QueryCounters.sumIndex],
            latencyCount: cells[QueryCounters.countIndex],
            rateLimited: rateLimited,
            zones: zoneCounts
        )
    }

    public struct Totals: Sendable, Equatable {
        public struct Key: Hashable, Sendable {
            public var transport: String
            public var type: String
            public var rcode: String
        }

        /// A class of response (`ResponseClass.name`) and what the rate limiter did with it (`slipped`, `dropped`).
        public struct RateLimitKey: Hashable, Sendable {
            public var responseClass: String
            public var action: String

            public init(responseClass: String, action: String) {
                self.responseClass = responseClass
                self.action = action
            }
        }

        public var queries: [Key: UInt64]
        /// Counts per bucket of `QueryCounters.latencyBounds` (not cumulative), the last one +Inf.
        public var latencyBuckets: [UInt64]
        public var latencySumNanoseconds: UInt64
        public var latencyCount: UInt64
        /// Responses the rate limiter slipped or dropped, by class and action (absent = none).
        public var rateLimited: [RateLimitKey: UInt64] = [:]
        /// Queries by the zone they fell in: every zone served since the start (0 included), `other` (zones past
        /// `QueryCounters.zoneSlots`) and `none` (outside every zone, or refused before the lookup).
        public var zones: [String: UInt64] = [:]

        public static var latencyBoundsSeconds: [Double] { QueryCounters.latencyBounds.map { Double($0) / 1e9 } }

        /// The label of an RCODE bucket: the RCODE's mnemonic (`RCode.description`), or `dropped`.
        static func rcodeName(_ bucket: Int) -> String {
            bucket == QueryCounters.droppedBucket ? "dropped" : RCode(UInt16(bucket)).description
        }
    }
}

/// The zone of each named zone counter slot, in the order first served. A slot is never reused, so a reload that adds
/// or drops zones keeps every count under its own zone's name.
final class ZoneSlotRegistry: Sendable {
    private let slots = Mutex<[String]>([])

    var names: [String] { slots.withLock { $0 } }

    /// The counter slot of each of `origins` (a table's `zoneOrigins`), assigning slots to zones not seen before;
    /// zones past the bound share `QueryCounters.otherZoneSlot`. Called when a server sees a new table, not per query.
    func slots(of origins: [DomainName]) -> [Int] {
        slots.withLock { names in
            origins.map { origin in
                let name = origin.description
                if let slot = names.firstIndex(of: name) { return slot }
                guard names.count < QueryCounters.otherZoneSlot else { return QueryCounters.otherZoneSlot }
                names.append(name)
                return names.count - 1
            }
        }
    }
}
