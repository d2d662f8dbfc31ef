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
    private let live: Mutex<LiveTable?>
    private let serialCounter: Atomic<UInt32>
    private let logger: Logger

    public init(initial: AnswerTable, logger: Logger = Logger(label: "mcdns.records")) {
        self.table = Mutex(initial)
        self._generation = Atomic(1)
        self.live = Mutex(nil)
        self.serialCounter = Atomic(initial.serial)
        self.logger = logger
    }

    /// A store fed by live records. The first table has the static zones and no records yet.
    /// The SOA serial starts at the current time in seconds and grows by one per publish, so it does not go
    /// backwards across a restart unless more than one publish a second was sustained.
    public init(live: sending LiveTable, firstSerial: UInt32? = nil, logger: Logger = Logger(label: "mcdns.records"))
        throws(CompileError)
    {
        let serial = firstSerial ?? UInt32(truncatingIfNeeded: time(nil))
        let initial = try live.rebuild(serial: serial)
        self.table = Mutex(initial)
        self._generation = Atomic(1)
        self.live = Mutex(live)
        self.serialCounter = Atomic(serial)
        self.logger = logger
    }

    /// Bumped after every swap; compare with the value a reader saw last.
    public var generation: UInt64 { _generation.load(ordering: .acquiring) }

    /// The current table (takes the lock: call it when `generation` changed, not per query).
    public func current() -> AnswerTable { table.withLock { $0 } }

    /// Swaps in a new table atomically.
    public func publish(_ newTable: AnswerTable) {
        table.withLock { $0 = newTable }
        _generation.add(1, ordering: .releasing)
    }

    /// Compiles a batch of record changes into a new table and publishes it.
    public func apply(_ changes: RecordChanges) async {
        guard !changes.isEmpty else { return }
        let started = ContinuousClock.now
        let outcome = live.withLock { live -> Result<(AnswerTable, [String]), CompileError>? in
            guard let live else { return nil }
            let serial = serialCounter.add(1, ordering: .relaxed).newValue
            do throws(CompileError) {
                let table = try live.apply(changes, serial: serial)
                let keys = Set(changes.upserted.map(\.key))
                let problems = keys.sorted().flatMap { key in (live.problems[key] ?? []).map { "\(key): \($0)" } }
                return .success((table, problems))
            } catch {
                return .failure(error)
            }
        }
        switch outcome {
        case nil:
            logger.warning("record changes arrived but this store serves static zones only")
        case .success(let (table, problems)):
            publish(table)
            if changes.upserted.count + changes.removed.count >= HeapTrim.threshold || changes.clusters != nil {
                HeapTrim.trim()
            }
            for problem in problems { logger.warning("record not fully served", metadata: ["problem": "\(problem)"]) }
            logger.debug("published", metadata: [
                "serial": "\(table.serial)", "upserted": "\(changes.upserted.count)",
                "removed": "\(changes.removed.count)", "took": "\(ContinuousClock.now - started)",
            ])
        case .failure(let error):
            logger.error("compile failed; the previous answers keep serving", metadata: ["error": "\(error)"])
        }
    }

    /// The live state as plain values (for the admin API and `explain`); nil for a static-only store.
    public func liveState() -> LiveState? {
        live.withLock { live in
            guard let live else { return nil }
            return LiveState(records: live.records, clusters: live.clusters, problems: live.problems,
                             names: live.namesByService)
        }
    }

    public struct LiveState: Sendable {
        public var records: [ServiceKey: ServiceDNSRecord]
        public var clusters: [ClusterID: ClusterInfo]
        public var problems: [ServiceKey: [String]]
        public var names: [ServiceKey: [LiveName]]
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
