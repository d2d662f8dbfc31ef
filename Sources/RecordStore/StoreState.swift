import DNSAnswer
import MCDNSModel

#if canImport(Glibc)
import Glibc
#endif

/// What `RecordStore` keeps beside its table, under one lock: the live table and the warm start that decides
/// what the table gets while restored records wait for their members (`WarmStart`, MCDNSModel).
struct StoreState {
    var table: LiveTable
    var warm = WarmStart<ContinuousClock.Instant>()

    init(table: LiveTable) {
        self.table = table
    }

    /// The controller's changes as the warm start lets them through to the table.
    mutating func effective(_ changes: RecordChanges) -> RecordChanges {
        let table = self.table
        return warm.effective(changes) { table.records[$0] }
    }

    func persisted(serial: UInt32) -> PersistedState {
        Self.persisted(serial: serial, records: table.records, clusters: table.clusters)
    }

    /// The state to save from the table's records and members. Takes copies of the dictionaries (cheap, copy on
    /// write), so a caller can read them under the store's lock and sort outside it.
    static func persisted(serial: UInt32, records: LiveRecords,
                          clusters: [ClusterID: ClusterInfo]) -> PersistedState {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return PersistedState(
            serial: serial,
            serialReserved: serial,
            savedAt: Double(now.tv_sec) + Double(now.tv_nsec) / 1e9,
            records: records.values.sorted { $0.key < $1.key },
            clusters: clusters.keys.sorted().map { clusters[$0]! }
        )
    }
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
