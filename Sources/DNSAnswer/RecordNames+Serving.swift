public import MCDNSModel

/// How each cluster of a record takes part in its answers now, for the admin API and `mcdns records`.
public struct RecordServing: Sendable, Equatable {
    /// Clusters whose targets the answers use (stale ones included), by name.
    public var serving: [ClusterID]
    /// Serving clusters whose link is stale: last-known targets, answered with the degraded TTL.
    public var stale: [ClusterID]
    /// Clusters whose member is offline: their targets are withdrawn.
    public var offline: [ClusterID]
    /// Healthy clusters left out of the answers because they are drained.
    public var drained: [ClusterID]
    /// Every healthy cluster is drained, so they all answer as if none were.
    public var allDrained: Bool
    /// The TTL of the record's answers while every serving cluster is current.
    public var ttl: UInt32
}

extension RecordNames {
    /// Which clusters serve `record`, decided by the same rule that builds its answers (`healthyTargets`): an
    /// ExternalName record is served by every cluster that is not offline, since its answer is the CNAME.
    public func serving(_ record: ServiceDNSRecord) -> RecordServing {
        let ordered = record.status.dns.sorted { $0.cluster < $1.cluster }
        let offline = ordered.filter { link($0) == .offline }.map(\.cluster)
        let serving: [ClusterID]
        let stale: [ClusterID]
        var drained: [ClusterID] = []
        var allDrained = false
        if record.status.externalTarget != nil {
            let current = ordered.filter { link($0) != .offline }
            serving = current.map(\.cluster)
            stale = current.filter { link($0) == .stale }.map(\.cluster)
        } else {
            let selection = healthyTargets(record, useEndpoints: record.status.headless)
            serving = selection.answering.map(\.cluster)
            stale = selection.answering.filter(\.stale).map(\.cluster)
            drained = selection.drainedOut.map(\.cluster)
            allDrained = selection.allDrained
        }
        return RecordServing(serving: serving, stale: stale, offline: offline, drained: drained,
                             allDrained: allDrained, ttl: ttl(record))
    }
}
