public import Foundation
public import KubeClient
public import Logging
public import MCDNSModel
public import ServiceLifecycle
import Synchronization

/// Runs the member sources, keeps their caches and links, and publishes merged records to a sink.
///
/// Events from all members arrive on one stream and are applied in order by one loop, so the state needs no
/// lock. Each event marks the affected service keys dirty; the first dirty mark schedules a flush one
/// `coalescingWindow` after the previous flush began (on the injected clock), so a lone change after a quiet spell
/// is published at once (behind the events already queued) while the changes of a burst wait for the window; the
/// flush re-merges only the dirty keys and hands the differences to the sink as one `RecordChanges`. Events that
/// arrive while the sink is applying a batch wait for the next flush, so a key is never merged twice at once and
/// a burst becomes one batch.
public final class ClusterController<C: Clock>: Service, Sendable where C.Duration == Duration {
    public let configuration: ControllerConfiguration
    private let sources: [any MemberSource]
    private let sink: any ServiceRecordSink
    private let logger: Logger
    private let clock: C
    private let wallClock: @Sendable () -> Double
    /// The members as the reconcile loop last left them, for `status()` (read by the admin API).
    private let board: Mutex<[MemberStatus]>
    /// The host cluster's ServiceDNSRecords, whose specs users set; nil without a `host:` configuration.
    private let hostRecords: HostRecordSource?
    /// The reconcile loop's inputs, made here so that `setDrains` can queue input before `run()` starts.
    private let inputs: AsyncStream<Input>
    private let continuation: AsyncStream<Input>.Continuation

    /// A controller over the given sources, one per configured member (tests and later issues plug sources in
    /// here); `wallClock` gives `lastObserved` times, `clock` drives coalescing and the stale grace period.
    public init(
        configuration: ControllerConfiguration,
        sources: [any MemberSource],
        sink: any ServiceRecordSink,
        logger: Logger,
        clock: C,
        wallClock: @escaping @Sendable () -> Double = { Date().timeIntervalSince1970 },
        hostRecords: HostRecordSource? = nil
    ) throws(ControllerError) {
        try configuration.validate()
        self.hostRecords = hostRecords
        let configured = configuration.members.map(\.name)
        let provided = sources.map(\.cluster)
        guard Set(provided).count == provided.count, Set(provided) == Set(configured) else {
            throw .invalidConfiguration(
                "sources (\(provided.map(\.rawValue).joined(separator: ", "))) must match "
                    + "the configured members (\(configured.map(\.rawValue).joined(separator: ", "))) one to one"
            )
        }
        self.configuration = configuration
        // Keep sources in member order so event indexes line up with the members.
        self.sources = configured.map { name in sources.first { $0.cluster == name }! }
        self.sink = sink
        self.logger = logger
        self.clock = clock
        self.wallClock = wallClock
        self.board = Mutex(ReconcileState<C.Instant>(configuration: configuration).members.map(\.status))
        (inputs, continuation) = AsyncStream.makeStream(of: Input.self)
    }

    /// Which members are drained (absent: not drained), replacing the previous set. Their services are merged
    /// again (a `Drained` condition) and the member list carries the drain to the answers; their sources, caches
    /// and watches are not touched. Applied in order with the members' events; safe before `run()`.
    public func setDrains(_ drains: [ClusterID: ClusterDrain]) {
        continuation.yield(.drains(drains))
    }

    /// Each member's source, link, cache size and recent conditions, in configuration order.
    public func status() -> [MemberStatus] {
        board.withLock { $0 }
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.reconcile()
        }
    }

    /// Indirect: the stream's buffer keeps the capacity of its longest backlog for good, and a member's first
    /// list arrives as one burst of events. Boxed, an element of that buffer is one pointer, not a few hundred
    /// bytes of Kubernetes object, and each box is freed when its event has been handled.
    private indirect enum Input: Sendable {
        case member(Int, MemberEvent)
        case sourceEnded(Int, String)
        case flush
        case linkDeadline(Int)
        case userSpecs([ServiceKey: KubeServiceDNSRecord.Spec?])
        case drains([ClusterID: ClusterDrain])
    }

    private func reconcile() async {
        let inputs = self.inputs
        let continuation = self.continuation
        var state = ReconcileState<C.Instant>(configuration: configuration)
        let window = configuration.coalescingWindow
        let clock = self.clock

        await withDiscardingTaskGroup { group in
            for (index, source) in sources.enumerated() {
                group.addTask {
                    let events = MemberEventSink { continuation.yield(.member(index, $0)) }
                    do {
                        try await source.run(events: events)
                        if !Task.isCancelled { continuation.yield(.sourceEnded(index, "the source returned")) }
                    } catch is CancellationError {
                        // Shutdown.
                    } catch {
                        continuation.yield(.sourceEnded(index, "\(error)"))
                    }
                }
            }

            if let hostRecords {
                group.addTask {
                    for await keys in hostRecords.changes() {
                        var specs: [ServiceKey: KubeServiceDNSRecord.Spec?] = [:]
                        for key in keys {
                            let spec = hostRecords.record(key)?.spec
                            // updateValue: a subscript assignment of nil would drop the key, not record "no spec".
                            specs.updateValue(spec.flatMap { $0.isEmpty ? nil : $0 }, forKey: key)
                        }
                        continuation.yield(.userSpecs(specs))
                    }
                }
            }

            // The first batch tells the sink the member list (all offline until they sync), even before any event.
            var flushScheduled = true
            var lastFlush = clock.now
            group.addTask { continuation.yield(.flush) }
            for await input in inputs {
                switch input {
                case .member(let index, let event):
                    if let deadline = state.handle(
                        event,
                        member: index,
                        now: clock.now,
                        wallClock: wallClock(),
                        logger: logger
                    ) {
                        group.addTask {
                            try? await clock.sleep(until: deadline, tolerance: nil)
                            continuation.yield(.linkDeadline(index))
                        }
                    }
                case .sourceEnded(let index, let reason):
                    if let deadline = state.sourceEnded(
                        member: index,
                        reason: reason,
                        now: clock.now,
                        wallClock: wallClock(),
                        logger: logger
                    ) {
                        group.addTask {
                            try? await clock.sleep(until: deadline, tolerance: nil)
                            continuation.yield(.linkDeadline(index))
                        }
                    }
                case .linkDeadline(let index):
                    state.expire(member: index, now: clock.now, logger: logger)
                case .userSpecs(let specs):
                    state.setUserSpecs(specs)
                case .drains(let drains):
                    state.setDrains(drains)
                case .flush:
                    flushScheduled = false
                    // The window runs from the flush's start, not its end: flushes still begin at most once a
                    // window, but a change that comes once a compile longer than the window is over goes at once.
                    // Counted from the end, each of a run of single changes waited a window after every compile
                    // (bench/scale.sh: about 2 of its 4.6 ms p50 at 100,000 services).
                    let started = clock.now
                    let changes = state.flush()
                    let fallback = state.takeNewlyAllDrained()
                    if !fallback.isEmpty {
                        // Once when a record enters the fallback (a drain, or the last undrained cluster turning
                        // unhealthy), never per query: answers are compiled.
                        logger.warning(
                            "every healthy cluster of these services is drained: answering as if none were",
                            metadata: [
                                "services": "\(fallback.count)",
                                "examples": "\(fallback.prefix(5).map(\.description).joined(separator: ","))",
                            ]
                        )
                    }
                    if !changes.isEmpty {
                        logger.debug(
                            "publishing",
                            metadata: [
                                "upserted": "\(changes.upserted.count)", "removed": "\(changes.removed.count)",
                                "clusters": "\(changes.clusters != nil)",
                            ]
                        )
                        await sink.apply(changes)
                    }
                    lastFlush = started
                }
                let snapshot = state.members.map(\.status)
                board.withLock { $0 = snapshot }
                if state.needsFlush && !flushScheduled {
                    flushScheduled = true
                    // One window after the last flush began: a burst waits for it, a lone change after a quiet spell
                    // goes at once. Deadline taken now, so a test clock advanced past it releases the flush
                    // whenever the sleeping task starts. An immediate flush still goes through the stream: it
                    // then follows the events already queued.
                    let deadline = lastFlush.advanced(by: window)
                    let wait = deadline > clock.now
                    group.addTask {
                        if wait { try? await clock.sleep(until: deadline, tolerance: nil) }
                        continuation.yield(.flush)
                    }
                }
            }
            continuation.finish()
            group.cancelAll()
        }
    }
}

extension ClusterController where C == ContinuousClock {
    /// The controller the daemon runs: one source per member, built from its configuration. `tunnelConnector`
    /// gives a `source: { tunnel: {} }` member its connector (the daemon adapts the reverse tunnel; this module
    /// does not know it); without it such a member is refused.
    public convenience init(
        configuration: ControllerConfiguration,
        sink: any ServiceRecordSink,
        logger: Logger,
        tunnelConnector: (@Sendable (ClusterID) -> any KubeConnector)? = nil,
        hostRecords: HostRecordSource? = nil
    ) throws(ControllerError) {
        var sources: [any MemberSource] = []
        // One limiter for the whole fleet: a restart of many members lists a few at a time.
        let limiter = ListLimiter(limit: max(configuration.listConcurrency, 1))
        for member in configuration.members {
            switch member.source {
            case .manifests(let path):
                sources.append(
                    ManifestSource(
                        cluster: member.name,
                        directory: path,
                        pollInterval: configuration.manifestPollInterval,
                        logger: logger
                    )
                )
            case .kubeconfig(let path, let context):
                let client: KubeClientConfiguration
                do throws(KubeConfigError) {
                    client = try KubeConfig.load(path: path).resolve(context: context)
                } catch {
                    throw .invalidConfiguration("cluster \"\(member.name)\": \(error)")
                }
                sources.append(try Self.direct(member.name, client, configuration, limiter, logger))
            case .inCluster:
                let client: KubeClientConfiguration
                do throws(KubeConfigError) {
                    client = try KubeClientConfiguration.inCluster()
                } catch {
                    throw .invalidConfiguration("cluster \"\(member.name)\": \(error)")
                }
                sources.append(try Self.direct(member.name, client, configuration, limiter, logger))
            case .tunnel:
                guard let tunnelConnector else {
                    throw .sourceNotSupported(cluster: member.name, source: member.source.description)
                }
                var memberLogger = logger
                memberLogger[metadataKey: "cluster.id"] = "\(member.name)"
                sources.append(
                    KubeMemberSource(
                        cluster: member.name, connector: tunnelConnector(member.name),
                        configuration: configuration.reflector, limiter: limiter, logger: memberLogger
                    )
                )
            }
        }
        try self.init(
            configuration: configuration,
            sources: sources,
            sink: sink,
            logger: logger,
            clock: ContinuousClock(),
            hostRecords: hostRecords
        )
    }

    private static func direct(
        _ cluster: ClusterID,
        _ client: KubeClientConfiguration,
        _ configuration: ControllerConfiguration,
        _ limiter: ListLimiter,
        _ logger: Logger
    ) throws(ControllerError) -> KubeMemberSource {
        do throws(KubeClientError) {
            return try KubeMemberSource.direct(cluster: cluster, client: client, configuration: configuration.reflector,
                                               limiter: limiter, logger: logger)
        } catch {
            throw .invalidConfiguration("cluster \"\(cluster)\": \(error)")
        }
    }
}
