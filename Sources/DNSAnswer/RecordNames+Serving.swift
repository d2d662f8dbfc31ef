public import MCDNSModel

/// How each cluster of a record takes part in its answers now, for the admin API and `mcdns records`.
public struct RecordServing: Sendable, Equatable {
    /// Clusters whose targets the answers use (stale ones included), by name.
    public var serving: [ClusterID]
    /// Serving clusters whose link is stale: last-known targets, answered with the degraded TTL.
    public var stale: [ClusterID]
    /// Clusters whose member is offline: their targets are withdrawn.
    public var offline: [ClusterID]
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
        if record.status.externalTarget != nil {
            let current = ordered.filter { link($0) != .offline }
            serving = current.map(\.cluster)
            stale = current.filter { link($0) == .stale }.map(\.cluster)
        } else {
            let targets = healthyTargets(record, useEndpoints: record.status.headless)
            serving = targets.map(\.cluster)
            stale = targets.filter(\.stale).map(\.cluster)
        }
        return RecordServing(serving: serving, stale: stale, offline: offline, ttl: ttl(record))
    }
}
