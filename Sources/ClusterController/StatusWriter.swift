public import Foundation
public import KubeClient
public import Logging
public import MCDNSModel
public import ServiceLifecycle
import Synchronization

/// Writes every merged record's status to a ServiceDNSRecord in the host cluster, on the leader only.
///
/// It is a `ServiceRecordSink` beside the record store: the controller's batches tell it what the records are.
/// A round runs after each batch, each change of the host's records, each leadership change, and every
/// `resyncPeriod`; it is level-based (it compares the whole desired state with what the server holds):
///
/// - Nothing happens unless `LeaderElector.confirmLeadership()` re-reads the Lease and finds this replica its
///   holder; before each single write `isLeader()` checks the renew deadline again.
/// - A record without an object gets one (namespace/name of the service, labelled
///   `app.kubernetes.io/managed-by: mcdns`, empty spec); a user's own object is used as it is.
/// - Status is PUT to `/status` only when the rendered status differs from the server's, with the
///   resourceVersion last seen as precondition; on 409 the object is read again and the write retried with
///   exponential backoff, a bounded number of times (the next round tries again).
/// - When a written status changes the clusters that serve a record (`readyClusters`), an Event on the object
///   says which cluster left and why (`ClusterUnhealthy`, `ClusterStale`) or came back (`ClusterHealthy`),
///   through a `RecordEventRecorder` (client-go's correlation: repeats counted, a token bucket per object).
/// - An object mcdns created is deleted (with a resourceVersion precondition) when its service is gone; objects
///   without the label are never deleted.
///
/// The resync period and the conflict backoff are waited on `clock` (`ReflectorClock.continuous` in the daemon), so
/// tests advance a manual clock instead of waiting for them.
public final class StatusWriter: Service, ServiceRecordSink, Sendable {
    public static let managedByValue = "mcdns"

    public struct Configuration: Sendable, Equatable {
        /// How often a round runs without any trigger (a missed event never leaves status wrong for long).
        public var resyncPeriod: Duration
        /// Attempts per object per round when writes conflict.
        public var maximumAttempts: Int
        /// The first backoff after a conflict; it doubles per attempt.
        public var conflictBackoff: Duration

        public init(
            resyncPeriod: Duration = .seconds(30),
            maximumAttempts: Int = 5,
            conflictBackoff: Duration = .milliseconds(50)
        ) {
            self.resyncPeriod = resyncPeriod
            self.maximumAttempts = maximumAttempts
            self.conflictBackoff = conflictBackoff
        }
    }

    /// Counts of what the writer did, for tests and diagnostics.
    public struct Statistics: Sendable, Equatable {
        /// Batches the controller handed over (`apply`).
        public var batches = 0
        /// Passes of the writer's loop that finished, one per wake-up (a batch, a host record change, a leadership
        /// change, a resync): a round, or nothing on a follower. A pass that starts after a batch was applied and
        /// finishes has acted on it, so a test waits for two more passes to know that nothing was written.
        public var passes = 0
        /// Rounds run as the confirmed leader.
        public var rounds = 0
        public var created = 0
        public var statusWrites = 0
        public var conflicts = 0
        public var deleted = 0
        public var skippedNotLeader = 0
        /// Warnings logged for a cause that appeared (one per appearance, not per round or record).
        public var problemWarnings = 0
    }

    public let configuration: Configuration
    private let elector: LeaderElector
    private let hostRecords: HostRecordSource
    private let client: KubeResourceClient
    private let events: RecordEventRecorder
    private let logger: Logger
    private let clock: ReflectorClock
    private let state = Mutex(State())
    private let wake: AsyncStream<Void>.Continuation
    private let wakes: AsyncStream<Void>

    private struct State {
        /// The merged records as the controller sent them. A copy of its own, needed because every round compares
        /// all of them with the server (level-based, also at resync and after winning the Lease), apart from the
        /// controller's loop, and the writer outlives a controller a reload replaces; field boxes are shared.
        var desired: [ServiceKey: ServiceDNSRecord] = [:]
        /// Keys the controller removed while this process ran: their managed objects may go at once.
        var removed: Set<ServiceKey> = []
        /// Every member has synced since the last batch that listed them: keys not desired then are truly gone.
        var allMembersSynced = false
        /// What this writer's own writes answered, which the watch may not have delivered yet.
        var written: [ServiceKey: KubeServiceDNSRecord] = [:]
        /// How many deletes the watch has shown per key: an answer to a request sent before the latest delete
        /// is older than that delete and must not be remembered as the current object.
        var deletions: [ServiceKey: Int] = [:]
        var statistics = Statistics()
        /// Causes met during the round under way, by cause: the records and the server's message.
        var roundProblems: [HostStatusProblem: (keys: Set<ServiceKey>, message: String)] = [:]
        /// Causes present at the last complete round.
        var problems: [HostStatusProblem: HostStatusProblemReport] = [:]
    }

    public init(
        configuration: Configuration = Configuration(),
        elector: LeaderElector,
        hostRecords: HostRecordSource,
        connector: any KubeConnector,
        events: EventCorrelator.Configuration = EventCorrelator.Configuration(),
        logger: Logger,
        clock: ReflectorClock = .continuous,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.configuration = configuration
        self.elector = elector
        self.hostRecords = hostRecords
        self.client = KubeResourceClient(resource: .serviceDNSRecords, connector: connector)
        self.events = RecordEventRecorder(
            configuration: events,
            connector: connector,
            instance: elector.configuration.identity,
            logger: logger,
            now: now,
            isLeader: { elector.isLeader() }
        )
        self.logger = logger
        self.clock = clock
        (wakes, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    /// What the event recorder did (created, patched, dropped by the token bucket).
    public var eventStatistics: RecordEventRecorder.Statistics { events.statistics }

    /// The causes that kept records from being written at the last complete round, by cause.
    public var problems: [HostStatusProblemReport] {
        state.withLock { $0.problems.values.sorted { $0.cause < $1.cause } }
    }

    public func apply(_ changes: RecordChanges) async {
        state.withLock { state in
            for record in changes.upserted {
                state.desired[record.key] = record
                state.removed.remove(record.key)
            }
            for key in changes.removed {
                state.desired[key] = nil
                state.removed.insert(key)
            }
            if let clusters = changes.clusters {
                state.allMembersSynced = !clusters.isEmpty && clusters.allSatisfy { $0.link == .synced }
            }
            state.statistics.batches += 1
        }
        wake.yield()
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await keys in self.hostRecords.changes() {
                        self.forgetDeleted(keys)
                        self.wake.yield()
                    }
                }
                group.addTask {
                    for await _ in self.elector.leadershipChanges() { self.wake.yield() }
                }
                group.addTask { await self.events.run() }
                group.addTask {
                    while !Task.isCancelled {
                        try? await self.clock.sleep(self.configuration.resyncPeriod)
                        self.wake.yield()
                    }
                }
                for await _ in self.wakes {
                    if Task.isCancelled { break }
                    await self.round()
                    self.state.withLock { $0.statistics.passes += 1 }
                }
                group.cancelAll()
            }
        }
    }

    /// One pass over everything, if this replica leads.
    func round() async {
        guard elector.isLeader(), hostRecords.isSynced else { return }
        guard await elector.confirmLeadership() else { return }
        let (desired, removed, allSynced) = state.withLock { state in
            state.statistics.rounds += 1
            state.roundProblems = [:]
            return (state.desired, state.removed, state.allMembersSynced)
        }
        for key in desired.keys.sorted() {
            guard let record = desired[key] else { continue }
            guard await write(record) else { return }
        }
        // A user's own object whose service no member exports any more: its last status would claim targets
        // the answers no longer have. Only once every member has synced, so a start-up is not taken for it.
        if allSynced {
            for (key, object) in hostRecords.records().sorted(by: { $0.key < $1.key })
            where desired[key] == nil && object.managedBy != Self.managedByValue {
                guard await write(Self.withoutService(key)) else { return }
            }
        }
        concludeProblems()
        for (key, object) in hostRecords.records().sorted(by: { $0.key < $1.key })
        where desired[key] == nil && object.managedBy == Self.managedByValue && (removed.contains(key) || allSynced) {
            guard elector.isLeader() else {
                _ = notLeading()
                return
            }
            do throws(KubeAPIError) {
                try await client.delete(
                    namespace: key.namespace,
                    name: key.name,
                    resourceVersion: object.metadata.resourceVersion
                )
                logger.debug("deleted the ServiceDNSRecord of a service that is gone", metadata: ["service": "\(key)"])
                state.withLock {
                    $0.statistics.deleted += 1
                    $0.written[key] = nil
                    $0.removed.remove(key)
                }
            } catch .notFound {
                state.withLock { _ = $0.removed.remove(key) }
            } catch {
                // Changed meanwhile (a user took it over, say): looked at again next round.
                logger.debug(
                    "could not delete a ServiceDNSRecord",
                    metadata: ["service": "\(key)", "error": "\(error)"]
                )
            }
        }
    }

    /// Brings one object's status up to date. Returns false when leadership was lost (the round stops).
    private func write(_ record: ServiceDNSRecord) async -> Bool {
        let key = record.key
        var current = known(key)
        var backoff = configuration.conflictBackoff
        for attempt in 1...max(1, configuration.maximumAttempts) {
            guard elector.isLeader() else { return notLeading() }
            if current == nil {
                do throws(KubeAPIError) {
                    let epoch = deletions(key)
                    let created = try await client.create(namespace: key.namespace, newObject(key))
                    current = remember(key, created, since: epoch)
                    state.withLock { $0.statistics.created += 1 }
                } catch .alreadyExists {
                    current = await read(key)
                    if current == nil { return true }
                } catch {
                    if !noteProblem(error, key) {
                        logger.info(
                            "could not create a ServiceDNSRecord",
                            metadata: ["service": "\(key)", "error": "\(error)"]
                        )
                    }
                    return true
                }
            }
            guard let object = current else { return true }
            let status = RecordStatusDocument.render(
                record,
                observedGeneration: object.generation,
                previous: object.status?.withoutLines,
                now: Date()
            )
            if object.status?.withoutLines == status { return true }
            guard elector.isLeader() else { return notLeading() }
            do throws(KubeAPIError) {
                let body = KubeValue(
                    .object([
                        "apiVersion": KubeValue(.string(KubeObjectKind.serviceDNSRecord.apiVersion)),
                        "kind": KubeValue(.string(KubeObjectKind.serviceDNSRecord.rawValue)),
                        "metadata": KubeValue(
                            .object([
                                "name": KubeValue(.string(key.name)), "namespace": KubeValue(.string(key.namespace)),
                                "resourceVersion": KubeValue(.string(object.metadata.resourceVersion ?? "")),
                            ])
                        ),
                        "status": status,
                    ])
                )
                let epoch = deletions(key)
                let stored = try await client.updateStatus(namespace: key.namespace, name: key.name, body)
                _ = remember(key, stored, since: epoch)
                state.withLock { $0.statistics.statusWrites += 1 }
                recordTransitions(record, previous: object)
                return true
            } catch .conflict {
                state.withLock { $0.statistics.conflicts += 1 }
                logger.debug(
                    "status write conflicted; reading the object again",
                    metadata: ["service": "\(key)", "attempt": "\(attempt)"]
                )
                try? await clock.sleep(backoff)
                backoff = backoff * 2
                current = await read(key)
            } catch .notFound {
                state.withLock { _ = $0.written.removeValue(forKey: key) }
                current = nil
            } catch {
                if !noteProblem(error, key) {
                    logger.info(
                        "could not write ServiceDNSRecord status",
                        metadata: ["service": "\(key)", "error": "\(error)"]
                    )
                }
                return true
            }
        }
        logger.info("ServiceDNSRecord status still conflicts; retrying next round", metadata: ["service": "\(key)"])
        return true
    }

    /// Events for the clusters that stopped or started serving `record`, against the status the server held. None
    /// for a first status (no earlier `readyClusters`: nothing changed, the record is new).
    private func recordTransitions(_ record: ServiceDNSRecord, previous object: KubeServiceDNSRecord) {
        guard case .string(let before)? = object.status?["readyClusters"]?.content, let uid = object.metadata.uid
        else { return }
        for event in Self.transitions(
            record,
            readyBefore: before,
            uid: uid,
            resourceVersion: object.metadata.resourceVersion
        ) {
            events.post(event)
        }
    }

    /// The events between the ready clusters `readyBefore` (the status's comma-separated summary) and `record`'s.
    static func transitions(
        _ record: ServiceDNSRecord,
        readyBefore: String,
        uid: String,
        resourceVersion: String?
    ) -> [RecordEvent] {
        let before = Set(readyBefore.split(separator: ",").map(String.init))
        let after = RecordStatusDocument.readyClusters(record)
        let key = record.key
        func event(_ type: RecordEvent.Kind, _ reason: String, _ message: String) -> RecordEvent {
            RecordEvent(
                namespace: key.namespace,
                name: key.name,
                uid: uid,
                resourceVersion: resourceVersion,
                type: type,
                reason: reason,
                message: message
            )
        }
        var result: [RecordEvent] = []
        for cluster in before.subtracting(after).sorted() {
            let dns = record.status.dns.first { $0.cluster.rawValue == cluster }
            if let dns, dns.stale {
                result.append(
                    event(
                        .warning,
                        "ClusterStale",
                        "cluster \(cluster) is stale for \(key): its API server is unreachable; its last-known "
                            + "targets are served with the degraded TTL until its grace period ends"
                    )
                )
            } else if dns != nil {
                result.append(
                    event(
                        .warning,
                        "ClusterUnhealthy",
                        "cluster \(cluster) has no ready endpoints for \(key); answers leave it out"
                    )
                )
            } else {
                result.append(
                    event(
                        .warning,
                        "ClusterUnhealthy",
                        "cluster \(cluster) no longer has targets for \(key) (offline beyond its grace period, or "
                            + "the service is no longer exported there); answers leave it out"
                    )
                )
            }
        }
        for cluster in after.filter({ !before.contains($0) }) {
            result.append(event(.normal, "ClusterHealthy", "cluster \(cluster) serves \(key) again"))
        }
        return result
    }

    /// The status of a record whose service no member cluster exports.
    static func withoutService(_ key: ServiceKey) -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: key)
        record.status.conditions = [
            Condition(
                type: RecordMerger.ConditionType.ready,
                status: .false,
                reason: "ServiceNotExported",
                message: "no member cluster exports the service \(key) any more; the record serves no names"
            )
        ]
        return record
    }

    /// Notes a lasting cause met while writing `key`; false for any other failure.
    private func noteProblem(_ error: KubeAPIError, _ key: ServiceKey) -> Bool {
        guard let cause = HostStatusProblem(error) else { return false }
        let message: String
        switch error {
        case .notFound(let status), .status(_, let status): message = status.message ?? "\(error)"
        default: message = "\(error)"
        }
        state.withLock { state in
            state.roundProblems[cause, default: ([], message)].keys.insert(key)
        }
        return true
    }

    /// After a complete round: warns once for each cause that appeared and says once that a cause cleared.
    private func concludeProblems() {
        let (appeared, cleared) = state.withLock { state -> ([HostStatusProblemReport], [HostStatusProblem]) in
            var current: [HostStatusProblem: HostStatusProblemReport] = [:]
            for (cause, found) in state.roundProblems {
                current[cause] = HostStatusProblemReport(
                    cause: cause,
                    services: found.keys.count,
                    example: found.keys.sorted().first.map { "\($0)" } ?? "",
                    message: found.message,
                    advice: cause.advice
                )
            }
            let appeared = current.filter { state.problems[$0.key] == nil }.values.sorted { $0.cause < $1.cause }
            let cleared = state.problems.keys.filter { current[$0] == nil }.sorted()
            state.problems = current
            state.statistics.problemWarnings += appeared.count
            return (appeared, cleared)
        }
        for report in appeared {
            logger.warning(
                "cannot write ServiceDNSRecords in the host cluster: \(report.message); \(report.advice)",
                metadata: [
                    "cause": "\(report.cause.rawValue)", "services": "\(report.services)",
                    "service": "\(report.example)",
                ]
            )
        }
        for cause in cleared {
            logger.notice(
                "ServiceDNSRecords are written again: \(cause.rawValue) is resolved",
                metadata: ["cause": "\(cause.rawValue)"]
            )
        }
    }

    private func notLeading() -> Bool {
        state.withLock { $0.statistics.skippedNotLeader += 1 }
        return false
    }

    /// An object the watch saw deleted is gone, whatever this writer's last write answered: without this, a
    /// record deleted by a user would look current (and its status equal) until something else changed.
    private func forgetDeleted(_ keys: Set<ServiceKey>) {
        let gone = keys.filter { hostRecords.record($0) == nil }
        guard !gone.isEmpty else { return }
        state.withLock { state in
            for key in gone {
                state.written[key] = nil
                state.deletions[key, default: 0] += 1
            }
        }
    }

    /// The newest of what the watch delivered and what this writer's last write answered.
    private func known(_ key: ServiceKey) -> KubeServiceDNSRecord? {
        let watched = hostRecords.record(key)
        let written = state.withLock { $0.written[key] }
        guard let written else { return watched }
        guard let watched else { return written }
        let watchedVersion = watched.metadata.resourceVersion.flatMap { UInt64($0) }
        let writtenVersion = written.metadata.resourceVersion.flatMap { UInt64($0) }
        if let watchedVersion, let writtenVersion, writtenVersion > watchedVersion { return written }
        return watched
    }

    private func read(_ key: ServiceKey) async -> KubeServiceDNSRecord? {
        let epoch = deletions(key)
        do throws(KubeAPIError) {
            return remember(key, try await client.get(namespace: key.namespace, name: key.name), since: epoch)
        } catch {
            state.withLock { _ = $0.written.removeValue(forKey: key) }
            return nil
        }
    }

    private func deletions(_ key: ServiceKey) -> Int {
        state.withLock { $0.deletions[key, default: 0] }
    }

    /// Keeps what a request answered, unless the watch showed the object deleted while the request was out: then
    /// the answer describes an object that no longer exists, and keeping it would make the record look current
    /// (never recreated) until something else changed.
    private func remember(_ key: ServiceKey, _ value: KubeValue, since epoch: Int) -> KubeServiceDNSRecord? {
        guard case .serviceDNSRecord(let record)? = try? KubeObject.decode(value) else { return nil }
        state.withLock { state in
            if state.deletions[key, default: 0] == epoch { state.written[key] = record }
        }
        return record
    }

    private func newObject(_ key: ServiceKey) -> KubeValue {
        KubeValue(
            .object([
                "apiVersion": KubeValue(.string(KubeObjectKind.serviceDNSRecord.apiVersion)),
                "kind": KubeValue(.string(KubeObjectKind.serviceDNSRecord.rawValue)),
                "metadata": KubeValue(
                    .object([
                        "name": KubeValue(.string(key.name)),
                        "namespace": KubeValue(.string(key.namespace)),
                        "labels": KubeValue(
                            .object([
                                KubeServiceDNSRecord.managedByLabel: KubeValue(.string(Self.managedByValue))
                            ])
                        ),
                    ])
                ),
                "spec": KubeValue(.object([:])),
            ])
        )
    }
}
