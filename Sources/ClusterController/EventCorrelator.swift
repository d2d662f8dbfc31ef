public import Foundation

/// One event about a ServiceDNSRecord, before correlation.
public struct RecordEvent: Sendable, Hashable {
    public enum Kind: String, Sendable {
        case normal = "Normal"
        case warning = "Warning"
    }

    /// The involved object: namespace, name and uid of the ServiceDNSRecord (kubectl describe selects by all three).
    public var namespace: String
    public var name: String
    public var uid: String
    public var resourceVersion: String?
    public var type: Kind
    public var reason: String
    public var message: String

    public init(
        namespace: String,
        name: String,
        uid: String,
        resourceVersion: String? = nil,
        type: Kind,
        reason: String,
        message: String
    ) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.type = type
        self.reason = reason
        self.message = message
    }
}

/// What happens to an event, as client-go's `EventCorrelator` decides it (k8s.io/client-go/tools/record,
/// events_cache.go), with the same three steps and defaults:
///
/// 1. Aggregation: events on one object with the same type and reason but different messages, more than
///    `maximumSimilar` (10) within `aggregationWindow` (10 min), become one event whose message starts with
///    "(combined from similar events): ".
/// 2. Deduplication: an event equal to one already recorded (object, type, reason, message) is not created again:
///    the recorded one is patched with `count + 1` and a new `lastTimestamp`, so `kubectl describe` shows
///    "(x5 over 2m)" instead of five lines. The cache holds `cacheSize` (4096) keys, the oldest dropped first.
/// 3. Spam filter: a token bucket per object, `burst` (25) tokens, one back every `refillInterval` (5 min); an
///    event without a token is dropped. The count in the cache has moved anyway, so the next event that passes
///    carries every occurrence in its count.
///
/// A pure value: time is the `now` of each call.
public struct EventCorrelator: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var burst: Int
        public var refillInterval: Duration
        public var aggregationWindow: Duration
        public var maximumSimilar: Int
        public var cacheSize: Int

        public init(
            burst: Int = 25,
            refillInterval: Duration = .seconds(300),
            aggregationWindow: Duration = .seconds(600),
            maximumSimilar: Int = 10,
            cacheSize: Int = 4096
        ) {
            self.burst = burst
            self.refillInterval = refillInterval
            self.aggregationWindow = aggregationWindow
            self.maximumSimilar = maximumSimilar
            self.cacheSize = cacheSize
        }
    }

    /// A create names a new Event; a patch raises the count of the Event named.
    public enum Decision: Sendable, Equatable {
        case create(Recorded)
        case patch(Recorded)
        case drop
    }

    /// The Event as it stands after this occurrence.
    public struct Recorded: Sendable, Equatable {
        public var name: String
        public var count: Int
        public var message: String
        public var firstTimestamp: Date
        public var lastTimestamp: Date
    }

    public static let combinedPrefix = "(combined from similar events): "

    public let configuration: Configuration
    private var similar: [SimilarKey: (messages: Set<String>, last: Date)] = [:]
    private var recorded: [ExactKey: Recorded] = [:]
    private var buckets: [ObjectKey: (tokens: Double, at: Date)] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    private struct ObjectKey: Hashable {
        var namespace: String
        var name: String
        var uid: String
    }

    private struct SimilarKey: Hashable {
        var object: ObjectKey
        var type: RecordEvent.Kind
        var reason: String
    }

    private struct ExactKey: Hashable {
        var similar: SimilarKey
        /// nil for the combined event of an aggregated group.
        var message: String?
    }

    public mutating func correlate(_ event: RecordEvent, now: Date) -> Decision {
        let object = ObjectKey(namespace: event.namespace, name: event.name, uid: event.uid)
        let similarKey = SimilarKey(object: object, type: event.type, reason: event.reason)

        // 1. Aggregation.
        var entry = similar[similarKey] ?? ([], now)
        if now.timeIntervalSince(entry.last) > seconds(configuration.aggregationWindow) { entry.messages = [] }
        entry.messages.insert(event.message)
        entry.last = now
        similar[similarKey] = entry
        let combined = entry.messages.count >= configuration.maximumSimilar
        let key = ExactKey(similar: similarKey, message: combined ? nil : event.message)
        let message = combined ? Self.combinedPrefix + event.message : event.message

        // 2. Deduplication.
        let decision: Decision
        if var seen = recorded[key] {
            seen.count += 1
            seen.message = message
            seen.lastTimestamp = now
            recorded[key] = seen
            decision = .patch(seen)
        } else {
            let fresh = Recorded(
                name: Self.eventName(event.name, now),
                count: 1,
                message: message,
                firstTimestamp: now,
                lastTimestamp: now
            )
            recorded[key] = fresh
            decision = .create(fresh)
        }
        trim(now: now)

        // 3. Spam filter.
        let interval = seconds(configuration.refillInterval)
        var bucket = buckets[object] ?? (Double(configuration.burst), now)
        if interval > 0 {
            bucket.tokens = min(
                Double(configuration.burst),
                bucket.tokens + max(0, now.timeIntervalSince(bucket.at)) / interval
            )
        }
        bucket.at = now
        guard bucket.tokens >= 1 else {
            buckets[object] = bucket
            return .drop
        }
        bucket.tokens -= 1
        buckets[object] = bucket
        return decision
    }

    /// Forgets an Event the server no longer has (its patch answered 404): the next occurrence creates it anew.
    public mutating func forget(_ event: RecordEvent, name: String) {
        recorded = recorded.filter { $0.value.name != name }
    }

    /// client-go's name: the object's name and the time in nanoseconds, in hex.
    static func eventName(_ object: String, _ now: Date) -> String {
        let nanoseconds = UInt64(max(0, now.timeIntervalSince1970) * 1e9)
        return "\(object).\(String(nanoseconds, radix: 16))"
    }

    /// Keeps each cache within `cacheSize` keys, dropping the least recently seen (client-go's LRU caches).
    private mutating func trim(now: Date) {
        let limit = max(1, configuration.cacheSize)
        if recorded.count > limit, let oldest = recorded.min(by: { $0.value.lastTimestamp < $1.value.lastTimestamp }) {
            recorded[oldest.key] = nil
        }
        if similar.count > limit, let oldest = similar.min(by: { $0.value.last < $1.value.last }) {
            similar[oldest.key] = nil
        }
        if buckets.count > limit, let oldest = buckets.min(by: { $0.value.at < $1.value.at }) {
            buckets[oldest.key] = nil
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }
}
