/// What a warm start restores and when it lets go (DESIGN §5, §7): the one owner of that decision. `RecordStore`
/// holds one, passes it every batch the controller publishes and compiles what it returns; the daemon's
/// persister asks it whether the grace is over. Neither decides anything about a warm start itself.
///
/// A warm start begins when a saved state is restored at start (`restoring`) or when a reload replaces the
/// controller (`expectResync`). While it lasts, a member that has not synced since it began keeps its restored
/// data, stale (degraded TTL), instead of the controller's "offline, never synced": its member entry keeps the
/// restored locality, and a service republished by the members that have synced keeps the restored targets of
/// those that have not (a removal keeps them too, as a record of restored data only). It ends when every member
/// the controller reports has synced once (restored services no member re-published leave), or, when some member
/// never syncs, once `grace` has passed since it began (`overdue(at:)`, then `end`): unconfirmed services leave
/// and members are shown as the controller reports them.
///
/// Outside a warm start it only notes which members have synced once (readiness reads `allSyncedOnce`) and passes
/// the changes through unchanged. It keeps no copy of the records: what "restored" means for a service is what the
/// store serves for it now, read through the `served` lookup the store passes in. Time is an argument, as in the
/// controller's `MemberLink`, so tests advance it instead of waiting.
public struct WarmStart<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// The member list as the controller last reported it (nil: no report since start or since the resync began).
    public private(set) var reported: [ClusterInfo]?
    /// Members seen synced at least once since start (or since the member list changed).
    public private(set) var syncedOnce: Set<ClusterID> = []
    /// The records came from the saved state at start.
    public private(set) var restoredFromState = false
    /// The warm start in progress, if any.
    private var pending: Pending?

    private struct Pending: Sendable {
        /// Restored services no member has republished or removed yet.
        var unconfirmed: Set<ServiceKey>
        /// Each member as restored (stale unless saved offline), shown until it syncs.
        var restored: [ClusterID: ClusterInfo]
        /// When the warm start ends even if some member never synced.
        var deadline: Instant
    }

    /// A cold start: nothing restored, nothing to let go of.
    public init() {}

    /// A warm start from a saved state, and the changes that restore it: the saved records with every member
    /// stale (an offline one stays offline). Keep the state only when those changes compiled; otherwise start
    /// cold (`init()`).
    public static func restoring(records: [ServiceDNSRecord], clusters: [ClusterInfo], at now: Instant,
                                 grace: Duration) -> (warmStart: WarmStart, changes: RecordChanges)
    {
        let stale = clusters.map { info in
            ClusterInfo(id: info.id, locality: info.locality, link: info.link == .offline ? .offline : .stale)
        }
        var warmStart = WarmStart()
        warmStart.restoredFromState = true
        warmStart.pending = Pending(
            unconfirmed: Set(records.map(\.key)),
            restored: Dictionary(stale.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first }),
            deadline: now.advanced(by: grace)
        )
        return (warmStart, RecordChanges(upserted: records, clusters: stale))
    }

    /// Starts treating every served record as unconfirmed until each member has synced again, with the members as
    /// served now as the restored ones: what a member list change (a reload) needs, since the new controller
    /// republishes from scratch. Ends after `grace` like a restore.
    public mutating func expectResync(records: some Sequence<ServiceKey>, clusters: [ClusterID: ClusterInfo],
                                      at now: Instant, grace: Duration)
    {
        pending = Pending(unconfirmed: Set(records), restored: clusters, deadline: now.advanced(by: grace))
        syncedOnce = []
        reported = nil
    }

    /// A warm start is in progress.
    public var inProgress: Bool { pending != nil }

    /// Restored services no member has confirmed yet (empty outside a warm start).
    public var unconfirmed: Set<ServiceKey> { pending?.unconfirmed ?? [] }

    /// Every reported member has synced once (nothing reported yet: not known, so false).
    public var allSyncedOnce: Bool {
        guard let reported else { return false }
        return Set(reported.map(\.id)).isSubset(of: syncedOnce)
    }

    /// The grace has passed and some member has still not synced: time to `end` the warm start.
    public func overdue(at now: Instant) -> Bool {
        guard let pending else { return false }
        return now >= pending.deadline
    }

    /// Turns the controller's changes into what the table gets. `served` reads the record the table serves now.
    public mutating func effective(_ changes: RecordChanges,
                                   served: (ServiceKey) -> ServiceDNSRecord?) -> RecordChanges
    {
        var result = changes
        if let clusters = changes.clusters {
            reported = clusters
            for info in clusters where info.link == .synced { syncedOnce.insert(info.id) }
        }
        guard var warm = pending else { return result }
        warm.unconfirmed.subtract(changes.upserted.map(\.key))
        warm.unconfirmed.subtract(changes.removed)
        if allSyncedOnce, let reported {
            result.removed += warm.unconfirmed.sorted()
            result.clusters = reported
            pending = nil
            return result
        }
        // A member that has synced republishes a service with its own data only: the restored data of members
        // that have not synced yet stays in the record (stale) until they do, also when the synced members no
        // longer have the service at all.
        result.upserted = changes.upserted.map { keepUnsyncedTargets(in: $0, served: served) }
        var removed: [ServiceKey] = []
        for key in changes.removed {
            let kept = keepUnsyncedTargets(in: ServiceDNSRecord(key: key), served: served)
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
        pending = warm
        return result
    }

    /// Ends the warm start (its grace is over, or a test says so): restored services no member confirmed leave,
    /// and members are shown as the controller reported them (`served`, the members served now, when it has not
    /// reported yet). Nil when no warm start was in progress.
    public mutating func end(served: @autoclosure () -> [ClusterInfo]) -> RecordChanges? {
        guard let warm = pending else { return nil }
        pending = nil
        return RecordChanges(removed: warm.unconfirmed.sorted(), clusters: reported ?? served())
    }

    /// `record` plus the restored per-cluster data of members that have not synced since the warm start began.
    private func keepUnsyncedTargets(in record: ServiceDNSRecord,
                                     served: (ServiceKey) -> ServiceDNSRecord?) -> ServiceDNSRecord
    {
        guard let previous = served(record.key) else { return record }
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
}
