import DNSAnswer
import MCDNSModel

#if canImport(Glibc)
import Glibc
#endif

/// What `RecordStore` keeps beside its table, under one lock: the live table and the warm-start bookkeeping.
struct StoreState {
    var table: LiveTable
    /// Set while restored records wait for their members to resync.
    var warm: WarmStart?
    /// The member list as the controller last reported it.
    var reported: [ClusterInfo]?
    /// Members seen synced at least once since start (or since the member list changed).
    var syncedOnce: Set<ClusterID> = []
    var restoredFromState = false

    init(table: LiveTable) {
        self.table = table
    }

    /// Every reported member has synced once (nothing reported yet: not known, so false).
    var allSyncedOnce: Bool {
        guard let reported else { return false }
        return Set(reported.map(\.id)).isSubset(of: syncedOnce)
    }

    /// Turns the controller's changes into what the table gets: while warm, members that have not synced since
    /// the restore keep their restored (stale) state instead of the controller's "offline, never synced"; once
    /// every member has synced, restored records no member re-published are removed.
    mutating func effective(_ changes: RecordChanges) -> RecordChanges {
        var result = changes
        if let clusters = changes.clusters {
            reported = clusters
            for info in clusters where info.link == .synced { syncedOnce.insert(info.id) }
        }
        guard var warm else { return result }
        warm.unconfirmed.subtract(changes.upserted.map(\.key))
        warm.unconfirmed.subtract(changes.removed)
        if allSyncedOnce, let reported {
            result.removed += warm.unconfirmed.sorted()
            result.clusters = reported
            self.warm = nil
            return result
        }
        // A member that has synced republishes a service with its own data only: the restored data of members
        // that have not synced yet stays in the record (stale) until they do, also when the synced members no
        // longer have the service at all.
        result.upserted = changes.upserted.map { keepUnsyncedTargets(in: $0) }
        var removed: [ServiceKey] = []
        for key in changes.removed {
            let kept = keepUnsyncedTargets(in: ServiceDNSRecord(key: key))
            if kept.status.dns.isEmpty {
                removed.append(key)
            } else {
                // Still only restored data: it leaves at the end of the warm start unless its member republishes it.
                result.upserted.append(kept)
                warm.unconfirmed.insert(key)
            }
        }
        result.removed = removed
        if let reported {
            result.clusters = reported.map { info in
                guard !syncedOnce.contains(info.id), let restored = warm.restored[info.id] else { return info }
                return ClusterInfo(
                    id: info.id,
                    locality: restored.locality,
                    link: restored.link == .offline ? .offline : .stale,
                    drain: info.drain
                )
            }
        }
        self.warm = warm
        return result
    }

    /// `record` plus the restored per-cluster data of members that have not synced since the restore.
    private func keepUnsyncedTargets(in record: ServiceDNSRecord) -> ServiceDNSRecord {
        guard let previous = table.records[record.key] else { return record }
        let present = Set(record.status.dns.map(\.cluster))
        var merged = record
        for dns in previous.status.dns where !syncedOnce.contains(dns.cluster) && !present.contains(dns.cluster) {
            merged.status.dns.append(dns)
        }
        if record.status.dns.isEmpty && !merged.status.dns.isEmpty {
            // Only restored data is left: keep the rest of the record as it was restored too.
            var restored = previous
            restored.status.dns = merged.status.dns
            return restored
        }
        return merged
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

/// Restored records waiting for their members.
struct WarmStart {
    var unconfirmed: Set<ServiceKey>
    var restored: [ClusterID: ClusterInfo]
}

extension Duration {
    var seconds: Double {
        let (whole, fraction) = components
        return Double(whole) + Double(fraction) / 1e18
    }
}
