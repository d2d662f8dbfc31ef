public import KubeClient
public import Logging
public import MCDNSModel
public import ServiceLifecycle
import Synchronization

/// The host cluster's ServiceDNSRecords, kept current by a list + watch `Reflector` over all namespaces.
///
/// Two readers share it: the controller takes the spec of each record (what users ask for a service: recordTTL,
/// dnsPrefix, externalName, allowServiceWithoutEndpoints) into the merge, on every replica; the status writer
/// compares what the server holds with what it would write, on the leader. Changes are announced as sets of
/// service keys on each subscriber's stream.
public final class HostRecordSource: Service, Sendable {
    private let reflector: Reflector
    private let state = Mutex(State())

    private struct State {
        var records: [ServiceKey: KubeServiceDNSRecord] = [:]
        var synced = false
        var subscribers: [Int: AsyncStream<Set<ServiceKey>>.Continuation] = [:]
        var nextSubscriber = 0
    }

    public init(
        connector: any KubeConnector,
        configuration: ReflectorConfiguration = ReflectorConfiguration(),
        logger: Logger
    ) {
        reflector = Reflector(
            kind: .serviceDNSRecord,
            namespace: nil,
            connector: connector,
            configuration: configuration,
            cluster: "host",
            logger: logger
        )
    }

    /// The reflector's counters and condition, for diagnostics.
    public var statistics: ReflectorStatistics { reflector.statistics }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.reflector.run { event in
                    self.apply(event)
                }
            }
        } catch is CancellationError {
            // Shutdown: the reflector stops by throwing CancellationError, which is not a failure of the service.
        }
    }

    /// Whether the first list has arrived (before it, "no record" means "not known yet").
    public var isSynced: Bool { state.withLock { $0.synced } }

    public func record(_ key: ServiceKey) -> KubeServiceDNSRecord? {
        state.withLock { $0.records[key] }
    }

    public func records() -> [ServiceKey: KubeServiceDNSRecord] {
        state.withLock { $0.records }
    }

    /// Every record's spec as the merge takes it (only records with a spec field set).
    public func userSpecs() -> [ServiceKey: KubeServiceDNSRecord.Spec] {
        state.withLock { state in state.records.compactMapValues { $0.spec.isEmpty ? nil : $0.spec } }
    }

    /// The keys whose record changed, from now on; the first element is every key known (possibly empty) once
    /// the first list has arrived.
    public func changes() -> AsyncStream<Set<ServiceKey>> {
        let (stream, continuation) = AsyncStream.makeStream(of: Set<ServiceKey>.self)
        let id = state.withLock { state in
            let id = state.nextSubscriber
            state.nextSubscriber += 1
            state.subscribers[id] = continuation
            // Safe under the lock: nothing can wait on this stream before it is returned.
            if state.synced { continuation.yield(Set(state.records.keys)) }
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// Applies one reflector event (also how tests feed records without a server).
    ///
    /// Subscribers are told after the lock is released. Yielding under it deadlocked (CI, once): a yield resumes
    /// the waiting task and takes the runtime's task-status lock, while cancelling that task (a replica
    /// stopping) holds the task-status lock and runs `onTermination`, which takes our lock.
    func apply(_ event: ReflectorEvent) {
        let (subscribers, changed) = state.withLock { state -> ([AsyncStream<Set<ServiceKey>>.Continuation], Set<ServiceKey>) in
            var changed: Set<ServiceKey> = []
            switch event {
            case .replace(let objects):
                var fresh: [ServiceKey: KubeServiceDNSRecord] = [:]
                for case .serviceDNSRecord(let record) in objects {
                    fresh[Self.key(record.metadata)] = record
                }
                for key in Set(fresh.keys).union(state.records.keys) where fresh[key] != state.records[key] {
                    changed.insert(key)
                }
                state.records = fresh
                if !state.synced {
                    state.synced = true
                    // The first list is announced even when empty: subscribers learn the source is synced.
                    return (Array(state.subscribers.values), Set(fresh.keys))
                }
            case .upsert(.serviceDNSRecord(let record)):
                let key = Self.key(record.metadata)
                if state.records[key] != record {
                    state.records[key] = record
                    changed.insert(key)
                }
            case .delete(let ref) where ref.kind == .serviceDNSRecord:
                let key = ServiceKey(namespace: ref.namespace, name: ref.name)
                if state.records.removeValue(forKey: key) != nil { changed.insert(key) }
            default:
                return ([], [])
            }
            guard !changed.isEmpty else { return ([], []) }
            return (Array(state.subscribers.values), changed)
        }
        for subscriber in subscribers { subscriber.yield(changed) }
    }

    private static func key(_ metadata: KubeObjectMeta) -> ServiceKey {
        ServiceKey(namespace: metadata.namespace, name: metadata.name)
    }
}
