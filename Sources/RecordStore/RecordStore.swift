public import DNSAnswer
import Synchronization

/// Holds the current `AnswerTable`. Readers keep their own reference and refresh it only when
/// `generation` moves, so the hot path costs one atomic load per batch and never takes a lock.
public final class RecordStore: Sendable {
    private let table: Mutex<AnswerTable>
    private let _generation: Atomic<UInt64>

    public init(initial: AnswerTable) {
        self.table = Mutex(initial)
        self._generation = Atomic(1)
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
