public import Foundation
public import KubeClient
public import Logging
import Synchronization

/// Writes core/v1 Events about ServiceDNSRecords (`kubectl describe servicednsrecord NAME` lists them), through an
/// `EventCorrelator`: a repeated event raises the count of the one recorded (strategic merge PATCH of `count`,
/// `lastTimestamp` and `message`), similar ones are combined, and each object has a token bucket. The Event
/// carries what client-go's legacy recorder writes: `source.component`/`reportingComponent` "mcdns",
/// `source.host`/`reportingInstance` the replica's identity, `firstTimestamp`/`lastTimestamp`, `count`.
///
/// Events are best effort, as in client-go: `post` only queues (at most `maximumQueued`, 1000 as client-go's
/// broadcaster; a full queue drops the event), so a slow API server never holds up the status writer's round;
/// `run()` writes them in order, each only while `isLeader()` holds. A failed write is logged at debug and not
/// retried (the status holds the state; an event only tells when it changed). A patch the server answers 404 (the
/// Event expired, its TTL is an hour by default) creates the Event again.
public final class RecordEventRecorder: Sendable {
    public struct Statistics: Sendable, Equatable {
        public var created = 0
        public var patched = 0
        /// Occurrences the per-object token bucket dropped.
        public var dropped = 0
        /// Events dropped because the queue was full.
        public var queueFull = 0
        /// Events not written because this replica no longer led when their turn came.
        public var notLeading = 0
        public var failed = 0
    }

    public static let maximumQueued = 1000

    public static let component = "mcdns"

    private let client: KubeResourceClient
    private let instance: String
    private let logger: Logger
    private let now: @Sendable () -> Date
    private let isLeader: @Sendable () -> Bool
    private let state: Mutex<(correlator: EventCorrelator, statistics: Statistics)>
    private let queue: AsyncStream<RecordEvent>
    private let enqueue: AsyncStream<RecordEvent>.Continuation

    public init(
        configuration: EventCorrelator.Configuration = EventCorrelator.Configuration(),
        connector: any KubeConnector,
        instance: String,
        logger: Logger,
        now: @escaping @Sendable () -> Date = { Date() },
        isLeader: @escaping @Sendable () -> Bool = { true }
    ) {
        self.client = KubeResourceClient(resource: .events, connector: connector)
        self.instance = instance
        self.logger = logger
        self.now = now
        self.isLeader = isLeader
        self.state = Mutex((EventCorrelator(configuration: configuration), Statistics()))
        (queue, enqueue) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(Self.maximumQueued))
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// Queues an event for `run()`; never waits.
    public func post(_ event: RecordEvent) {
        if case .dropped = enqueue.yield(event) {
            state.withLock { $0.statistics.queueFull += 1 }
        }
    }

    /// Writes the queued events in order until cancelled.
    public func run() async {
        for await event in queue {
            guard isLeader() else {
                state.withLock { $0.statistics.notLeading += 1 }
                continue
            }
            await record(event)
        }
    }

    /// Correlates and writes one event now.
    func record(_ event: RecordEvent) async {
        let decision = state.withLock { state in
            let decision = state.correlator.correlate(event, now: now())
            if decision == .drop { state.statistics.dropped += 1 }
            return decision
        }
        switch decision {
        case .drop:
            return
        case .create(let recorded):
            await create(event, recorded)
        case .patch(let recorded):
            let patch = KubeValue(
                .object([
                    "count": KubeValue(.int(recorded.count)),
                    "message": KubeValue(.string(recorded.message)),
                    "lastTimestamp": KubeValue(.string(RecordStatusDocument.timestamp(recorded.lastTimestamp))),
                ])
            )
            do throws(KubeAPIError) {
                _ = try await client.patch(namespace: event.namespace, name: recorded.name, patch)
                state.withLock { $0.statistics.patched += 1 }
            } catch .notFound {
                state.withLock { $0.correlator.forget(event, name: recorded.name) }
                await create(event, recorded)
            } catch {
                failed(event, error)
            }
        }
    }

    private func create(_ event: RecordEvent, _ recorded: EventCorrelator.Recorded) async {
        do throws(KubeAPIError) {
            _ = try await client.create(namespace: event.namespace, body(event, recorded))
            state.withLock { $0.statistics.created += 1 }
        } catch {
            failed(event, error)
        }
    }

    private func failed(_ event: RecordEvent, _ error: KubeAPIError) {
        state.withLock { $0.statistics.failed += 1 }
        logger.debug(
            "could not record an event on a ServiceDNSRecord",
            metadata: [
                "service": "\(event.namespace)/\(event.name)", "reason": "\(event.reason)", "error": "\(error)",
            ]
        )
    }

    func body(_ event: RecordEvent, _ recorded: EventCorrelator.Recorded) -> KubeValue {
        var involved: [String: KubeValue] = [
            "kind": KubeValue(.string(KubeObjectKind.serviceDNSRecord.rawValue)),
            "apiVersion": KubeValue(.string(KubeObjectKind.serviceDNSRecord.apiVersion)),
            "namespace": KubeValue(.string(event.namespace)), "name": KubeValue(.string(event.name)),
            "uid": KubeValue(.string(event.uid)),
        ]
        if let version = event.resourceVersion { involved["resourceVersion"] = KubeValue(.string(version)) }
        return KubeValue(
            .object([
                "apiVersion": KubeValue(.string("v1")), "kind": KubeValue(.string("Event")),
                "metadata": KubeValue(
                    .object([
                        "name": KubeValue(.string(recorded.name)), "namespace": KubeValue(.string(event.namespace)),
                    ])
                ),
                "involvedObject": KubeValue(.object(involved)),
                "reason": KubeValue(.string(event.reason)), "message": KubeValue(.string(recorded.message)),
                "type": KubeValue(.string(event.type.rawValue)),
                "source": KubeValue(
                    .object([
                        "component": KubeValue(.string(Self.component)), "host": KubeValue(.string(instance)),
                    ])
                ),
                "reportingComponent": KubeValue(.string(Self.component)),
                "reportingInstance": KubeValue(.string(instance)),
                "firstTimestamp": KubeValue(.string(RecordStatusDocument.timestamp(recorded.firstTimestamp))),
                "lastTimestamp": KubeValue(.string(RecordStatusDocument.timestamp(recorded.lastTimestamp))),
                "count": KubeValue(.int(recorded.count)),
            ])
        )
    }
}
