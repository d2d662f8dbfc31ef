public import DNSAnswer
public import Logging
public import MCDNSModel
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Holds the current `AnswerTable`. Readers keep their own reference and refresh it only when
/// `generation` moves, so the hot path costs one atomic load per batch and never takes a lock.
///
/// As a `ServiceRecordSink` it compiles each batch of record changes off the query path (through `LiveTable`,
/// which recompiles only what changed) and swaps the result in. A failed compile keeps the old table.
public final class RecordStore: Sendable, ServiceRecordSink {
    private let table: Mutex<AnswerTable>
    private let _generation: Atomic<UInt64>
    private let live: Mutex<StoreState?>
    private let staticZones = Mutex<[ZoneContent]>([])
    /// IXFR's differences between serials (DESIGN §9), kept under `live`'s lock beside the table they follow.
    private let journal = Mutex(TransferJournal())
    private let serialCounter: Atomic<UInt32>
    private let logger: Logger
    /// Where the merged records are persisted for a warm restart (nil: not persisted).
    public let stateFile: StateFile?
    /// Serialises state writes (the debounced writer and a forced write for a new serial reservation).
    private let writing = Mutex<UInt32>(0)
    /// The reservation on disk, readable without waiting for a write in progress.
    private let reservedSerial = Atomic<UInt32>(0)
    /// Counts publishes: the persister compares it with what it wrote last.
    private let _changeCount = Atomic<UInt64>(0)
    /// When a compile is followed by `HeapTrim.trim()`.
    private let trimSchedule = Mutex(HeapTrimSchedule())
    private let statistics = Mutex(Statistics())
    /// Serials published before a new state file is written: bounds what a restart must skip. Large, because the
    /// write that renews it is slow at scale (seconds for 100,000 records) and must never be waited for on the
    /// compile path: the persister renews it at half-way (`reservationRunningLow`); skipping up to this many
    /// serials after a crash is harmless (serial arithmetic spans 2^31).
    public static let serialReservation: UInt32 = 100_000
    /// This store's reservation (`serialReservation` unless a test asks for a smaller one).
    public let serialReservation: UInt32
    /// How long the warm start from a saved state waits for members that do not sync (`staleGracePeriod`).
    public let warmStartGrace: Duration

    public init(initial: AnswerTable, logger: Logger = Logger(label: "mcdns.records")) {
        self.table = Mutex(initial)
        self._generation = Atomic(1)
        self.live = Mutex(nil)
        self.serialCounter = Atomic(initial.serial)
        self.logger = logger
        self.stateFile = nil
        self.serialReservation = Self.serialReservation
        self.warmStartGrace = .seconds(120)
        self.statistics.withLock { $0.ready = true }
    }

    /// A store fed by live records. The first table has the static zones and, when `restoring` a saved state,
    /// its records as `WarmStart` restores them (stale, degraded TTL, until the members resync, for at most
    /// `warmStartGrace`); otherwise no records yet.
    /// The SOA serial starts at the current time in seconds (or above the saved reservation, whichever is
    /// higher) and grows by one per publish, so it never goes backwards across a restart.
    public init(live: sending LiveTable, firstSerial: UInt32? = nil, stateFile: StateFile? = nil,
                restoring saved: PersistedState? = nil, serialReservation: UInt32 = RecordStore.serialReservation,
                warmStartGrace: Duration = .seconds(120), logger: Logger = Logger(label: "mcdns.records"))
        throws(CompileError)
    {
        self.serialReservation = max(2, serialReservation)
        self.warmStartGrace = warmStartGrace
        var serial = firstSerial ?? UInt32(truncatingIfNeeded: time(nil))
        var warm = WarmStart<ContinuousClock.Instant>()
        var initial: AnswerTable
        if let saved {
            serial = max(serial, saved.serialReserved &+ 1)
            let (restoring, changes) = WarmStart<ContinuousClock.Instant>.restoring(
                records: saved.records, clusters: saved.clusters, at: .now, grace: warmStartGrace)
            do throws(CompileError) {
                initial = try live.apply(changes, serial: serial)
                warm = restoring
            } catch {
                logger.error("the saved records do not compile; starting without them", metadata: [
                    "error": "\(error)"])
                initial = try live.rebuild(serial: serial)
            }
        } else {
            initial = try live.rebuild(serial: serial)
        }
        self.table = Mutex(initial)
        self._generation = Atomic(1)
        self.serialCounter = Atomic(serial)
        self.logger = logger
        self.stateFile = stateFile
        let recordCount = live.records.count
        var state = StoreState(table: live)
        state.warm = warm
        self.live = Mutex(state)
        statistics.withLock {
            $0.ready = warm.inProgress
            $0.recordCount = recordCount
        }
        // The reservation covers the serials this process may use before it writes its first state.
        if stateFile != nil {
            writing.withLock { $0 = serial }
            reservedSerial.store(serial, ordering: .releasing)
        }
    }

    /// Bumped after every swap; compare with the value a reader saw last.
    public var generation: UInt64 { _generation.load(ordering: .acquiring) }

    /// The current table (takes the lock: call it when `generation` changed, not per query).
    public func current() -> AnswerTable { table.withLock { $0 } }

    /// The zones a transfer sends, and the serial of the table they were compiled into: a store fed by live
    /// records reads its live table (under the compile lock, O(zones): the contents are copy-on-write values);
    /// a static store the zones `setStaticZones` gave.
    public func transferSnapshot() -> TransferSnapshot {
        if let (live, journal) = live.withLock({ state in
            state.map { ($0.table.transferZones, self.journal.withLock { $0 }) }
        }) {
            return TransferSnapshot(serial: live.serial, zones: live.zones, journal: journal)
        }
        return TransferSnapshot(serial: current().serial, zones: staticZones.withLock { $0 })
    }

    /// Keeps the last `steps` differences of each zone with live names for IXFR (0: none; IXFR is answered in
    /// full). Not persisted: after a restart a client's older serial gets the whole zone.
    public func setJournalLength(_ steps: Int) {
        live.withLock { state in
            state?.table.recordsDifferences = steps > 0
            journal.withLock { journal in
                if steps == 0 { journal.clear() }
                journal.limit = steps
            }
        }
    }

    /// The zones of a store without live records (serve without clusters), for transfers.
    public func setStaticZones(_ zones: [ZoneContent]) { staticZones.withLock { $0 = zones } }

    /// Swaps in a new table atomically.
    public func publish(_ newTable: AnswerTable) {
        table.withLock { $0 = newTable }
        _generation.add(1, ordering: .releasing)
        _changeCount.add(1, ordering: .releasing)
    }

    /// Compiles a batch of record changes into a new table and publishes it.
    public func apply(_ changes: RecordChanges) async {
        guard !changes.isEmpty else { return }
        let changed = changes.upserted.count + changes.removed.count
        let now = ContinuousClock.now
        let trim = trimSchedule.withLock {
            $0.afterBatch(changed: changed, clustersChanged: changes.clusters != nil, at: now)
        }
        compile(upserted: changes.upserted.count, removed: changes.removed.count, trim: trim) { state in
            state.effective(changes)
        }
    }

    /// Ends a warm start whose grace is over at `now` (`WarmStart.overdue`; the daemon's persister asks
    /// periodically). Returns whether one ended.
    @discardableResult
    public func endWarmStart(ifOverdueAt now: ContinuousClock.Instant) -> Bool {
        endWarmStart { $0.overdue(at: now) }
    }

    /// Ends a warm start now, whatever its grace (`WarmStart.end`): restored records no member confirmed leave,
    /// and members are shown as the controller reports them. Returns whether a warm start was still in progress.
    @discardableResult
    public func endWarmStart() -> Bool {
        endWarmStart { _ in true }
    }

    private func endWarmStart(when due: (WarmStart<ContinuousClock.Instant>) -> Bool) -> Bool {
        var ended = false
        compile(upserted: 0, removed: 0) { state in
            guard due(state.warm) else { return nil }
            let unconfirmed = state.warm.unconfirmed.count
            let table = state.table
            guard let changes = state.warm.end(served: table.clusters.values.sorted { $0.id < $1.id }) else {
                return nil
            }
            ended = true
            logger.info("warm start over: members that did not resync are shown as they are", metadata: [
                "unconfirmed": "\(unconfirmed)"])
            return changes
        }
        return ended
    }

    /// Replaces the live table with one `make` builds (new zones, TTLs or naming after a reload), carrying the
    /// current records and members over. When `make` or the compile fails, nothing changes and the error is
    /// returned: the old table keeps serving. Nil for success; a static-only store returns `.notLive`.
    public func reconfigure(_ make: () throws(CompileError) -> LiveTable) -> ReconfigureError? {
        let started = ContinuousClock.now
        let outcome = live.withLock { state -> Result<AnswerTable, ReconfigureError> in
            guard state != nil else { return .failure(.notLive) }
            do throws(CompileError) {
                let fresh = try make()
                let old = state!.table
                let serial = nextSerial(state!)
                let changes = RecordChanges(upserted: old.records.keys.sorted().map { old.records[$0]! },
                                            clusters: old.clusters.keys.sorted().map { old.clusters[$0]! })
                let table = changes.isEmpty ? try fresh.rebuild(serial: serial) : try fresh.apply(changes, serial: serial)
                state!.table = fresh
                // A new table's differences to the old one are not known: the journal starts again.
                journal.withLock { journal in
                    journal.clear()
                    fresh.recordsDifferences = journal.limit > 0
                }
                return .success(table)
            } catch {
                return .failure(.compile(error))
            }
        }
        switch outcome {
        case .success(let table):
            publish(table)
            statistics.withLock { $0.lastBuild = ContinuousClock.now - started; $0.builds += 1 }
            return nil
        case .failure(let error):
            return error
        }
    }

    public enum ReconfigureError: Error, Sendable, CustomStringConvertible {
        case notLive
        case compile(CompileError)

        public var description: String {
            switch self {
            case .notLive: return "this store serves static zones only"
            case .compile(let error): return error.description
            }
        }
    }

    /// Starts a warm start over the records served now (`WarmStart.expectResync`): what a member list change (a
    /// reload) needs, since the new controller republishes from scratch. It ends after `grace` at the latest (the
    /// reloaded `staleGracePeriod`), as a restore does.
    public func expectResync(within grace: Duration, at now: ContinuousClock.Instant = .now) {
        live.withLock { state in
            guard state != nil else { return }
            let table = state!.table
            state!.warm.expectResync(records: table.records.keys, clusters: table.clusters, at: now, grace: grace)
        }
    }

    private func compile(upserted: Int, removed: Int, trim: Bool = true, _ transform: (inout StoreState) -> RecordChanges?) {
        let started = ContinuousClock.now
        let outcome = live.withLock { state -> Result<(AnswerTable, [String], Int), CompileError>? in
            guard state != nil, let changes = transform(&state!), !changes.isEmpty else { return nil }
            let serial = nextSerial(state!)
            do throws(CompileError) {
                let previous = state!.table.transferZones.serial
                let table = try state!.table.apply(changes, serial: serial)
                let live = state!.table
                journal.withLock { journal in
                    guard journal.limit > 0 else { return }
                    if let changes = live.lastDifferences {
                        let origins = live.transferZones.zones.filter(\.followsTableSerial).map(\.origin)
                        journal.record(previous: previous, serial: serial, origins: origins, changes: changes)
                    } else {
                        journal.clear()
                    }
                }
                let keys = Set(changes.upserted.map(\.key))
                let problems = keys.sorted().flatMap { key in
                    (state!.table.problems[key] ?? []).map { "\(key): \($0)" }
                }
                return .success((table, problems, state!.table.records.count))
            } catch {
                return .failure(error)
            }
        }
        let took = ContinuousClock.now - started
        switch outcome {
        case nil:
            break
        case .success(let (table, problems, count)):
            publish(table)
            statistics.withLock { stats in
                stats.recordCount = count
                stats.lastBuild = took
                stats.buildSeconds += took.seconds
                stats.builds += 1
            }
            if trim { HeapTrim.trim() }
            for problem in problems { logger.warning("record not fully served", metadata: ["problem": "\(problem)"]) }
            logger.debug("published", metadata: [
                "serial": "\(table.serial)", "upserted": "\(upserted)",
                "removed": "\(removed)", "took": "\(took)",
            ])
        case .failure(let error):
            statistics.withLock { $0.failedBuilds += 1 }
            logger.error("compile failed; the previous answers keep serving", metadata: ["error": "\(error)"])
        }
        let ready = live.withLock { state in state?.warm.allSyncedOnce ?? true }
        if ready { statistics.withLock { $0.ready = true } }
    }

    /// The next serial; past the persisted reservation it first writes a state that reserves more, so a restart
    /// after a crash never reuses a serial a secondary may have seen.
    private func nextSerial(_ state: StoreState) -> UInt32 {
        let serial = serialCounter.add(1, ordering: .relaxed).newValue
        guard let stateFile else { return serial }
        // The atomic, not the writer's lock: that lock is held for the whole of a write in progress (seconds at
        // scale), and every compile would wait behind it.
        let reserved = reservedSerial.load(ordering: .acquiring)
        if serial > reserved {
            write(state.persisted(serial: serial &- 1), to: stateFile)
        }
        return serial
    }

    // MARK: - Persistence

    /// Half of the serial reservation is used: the persister should write now rather than after its pause, so the
    /// compile path never has to write (and wait for) a new reservation itself.
    public var reservationRunningLow: Bool {
        guard stateFile != nil else { return false }
        let reserved = reservedSerial.load(ordering: .acquiring)
        let serial = serialCounter.load(ordering: .relaxed)
        return serial &+ serialReservation / 2 > reserved
    }

    /// Writes the state when something was published since the last write (the daemon calls this debounced,
    /// and once more at shutdown). Returns whether it wrote.
    @discardableResult
    public func persistIfChanged() -> Bool {
        guard let stateFile else { return false }
        let changes = _changeCount.load(ordering: .acquiring)
        guard changes != statistics.withLock({ $0.persistedChangeCount }) else { return false }
        // Only the dictionaries are taken under the lock (copy on write: O(1)); sorting 100,000 records there
        // would hold up every compile behind it.
        guard let (records, clusters, serial) = live.withLock({ state in
            state.map { ($0.table.records, $0.table.clusters, current().serial) }
        }) else {
            return false
        }
        let snapshot = StoreState.persisted(serial: serial, records: records, clusters: clusters)
        write(snapshot, to: stateFile)
        statistics.withLock { $0.persistedChangeCount = changes }
        return true
    }

    private func write(_ snapshot: PersistedState, to file: StateFile) {
        writing.withLock { reserved in
            var snapshot = snapshot
            snapshot.serialReserved = max(reserved, snapshot.serial &+ serialReservation)
            do throws(StateFileError) {
                try file.save(snapshot)
                reserved = snapshot.serialReserved
                reservedSerial.store(reserved, ordering: .releasing)
                statistics.withLock { $0.writes += 1 }
                logger.debug("state saved", metadata: [
                    "state.file": "\(file.path)", "serial": "\(snapshot.serial)",
                    "records": "\(snapshot.records.count)"])
            } catch {
                statistics.withLock { $0.writeFailures += 1 }
                logger.warning("state not saved; answers are unaffected, a restart starts colder", metadata: [
                    "error": "\(error)"])
            }
        }
    }

    // MARK: - Introspection

    /// Counters and gauges for the admin API and metrics.
    public var stats: Statistics { statistics.withLock { $0 } }

    /// Ready once a saved state was loaded or every member has synced once (a static-only store always is).
    public var isReady: Bool { statistics.withLock { $0.ready } }

    public struct Statistics: Sendable {
        public var ready = false
        public var recordCount = 0
        public var builds = 0
        public var failedBuilds = 0
        public var buildSeconds = 0.0
        public var lastBuild: Duration = .zero
        public var writes = 0
        public var writeFailures = 0
        var persistedChangeCount: UInt64 = 0
    }

    /// The live state as plain values (for the admin API and `explain`); nil for a static-only store. `names`
    /// holds the names of the services `namesOf` picks (none by default: the table keeps them as references into
    /// the zone contents, and making a million names again is not for a metrics scrape).
    public func liveState(namesOf include: (ServiceKey) -> Bool = { _ in false }) -> LiveState? {
        live.withLock { state in
            guard let state else { return nil }
            let live = state.table
            var names: ServiceNames = [:]
            for key in live.records.keys where include(key) { names[key] = live.names(of: key) }
            return LiveState(records: live.records, clusters: live.clusters, problems: live.problems,
                             names: names, naming: live.naming, serial: current().serial,
                             restoredFromState: state.warm.restoredFromState,
                             warmStart: state.warm.inProgress, unconfirmed: state.warm.unconfirmed,
                             syncedOnce: state.warm.syncedOnce)
        }
    }

    /// Runs `body` on the live table under the store's lock, with the serial being served (for `explain`, which
    /// resolves in record form against exactly what the table was compiled from). Nil for a static-only store.
    public func withLiveTable<T: Sendable>(_ body: (LiveTable, UInt32) -> T) -> T? {
        live.withLock { state in
            guard let state else { return nil }
            return body(state.table, current().serial)
        }
    }

    public struct LiveState: Sendable {
        public var records: LiveRecords
        public var clusters: [ClusterID: ClusterInfo]
        public var problems: [ServiceKey: [String]]
        public var names: ServiceNames
        public var naming: NamingConfiguration
        public var serial: UInt32
        /// Records came from the state file at start.
        public var restoredFromState: Bool
        /// Restored records are still waiting for their members to resync.
        public var warmStart: Bool
        /// Restored services no member has confirmed yet.
        public var unconfirmed: Set<ServiceKey>
        /// Members seen synced since start (or since the last member change).
        public var syncedOnce: Set<ClusterID>
    }

    /// A reader's cached view of the store: `table()` is one atomic load unless a publish happened.
    public struct Reader: ~Copyable {
        private let store: RecordStore
        private var seen: UInt64
        private var cached: AnswerTable

        public init(_ store: RecordStore) {
            self.store = store
            self.seen = store.generation
            self.cached = store.current()
        }

        public mutating func table() -> AnswerTable {
            let now = store.generation
            if now != seen {
                seen = now
                cached = store.current()
            }
            return cached
        }
    }
}

/// The contents of the served zones at one serial, as a zone transfer sends them.
public struct TransferSnapshot: Sendable {
    /// The serial of the table the zones were compiled into (the SOA serial of zones with live names).
    public var serial: UInt32
    public var zones: [ZoneContent]
    /// The differences between serials IXFR answers from.
    public var journal: TransferJournal

    public init(serial: UInt32, zones: [ZoneContent], journal: TransferJournal = TransferJournal()) {
        self.serial = serial
        self.zones = zones
        self.journal = journal
    }
}
