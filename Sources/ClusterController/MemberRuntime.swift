import KubeClient
import Logging
import MCDNSModel

/// Everything the controller keeps for one member while it runs: its cache, link and resolved topology.
struct MemberRuntime<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    let configuration: MemberConfiguration
    var cache = ClusterCache()
    var link: MemberLink<Instant>
    var topology: MemberTopology
    /// Recent problems and link changes, for `status`.
    var conditions: [String] = []
    var lastEvent: Double?
    /// Set while the member is drained (`ClusterController.setDrains`); its cache and watches are untouched.
    var drain: ClusterDrain?

    init(configuration: MemberConfiguration, grace: Duration) {
        self.configuration = configuration
        self.link = MemberLink(grace: grace)
        self.topology = MemberTopology.resolve(
            region: configuration.region,
            zones: configuration.zones,
            nodes: [KubeNode]()
        )
    }

    var id: ClusterID { configuration.name }

    var info: ClusterInfo {
        ClusterInfo(id: id, locality: topology.locality, link: link.state, drain: drain)
    }

    mutating func note(_ condition: String, wallClock: Double) {
        conditions.append(condition)
        if conditions.count > MemberStatus.conditionLimit { conditions.removeFirst(conditions.count - MemberStatus.conditionLimit) }
        lastEvent = wallClock
    }

    var status: MemberStatus {
        let kind: String
        switch configuration.source {
        case .manifests: kind = "manifests"
        case .kubeconfig: kind = "kubeconfig"
        case .tunnel: kind = "tunnel"
        case .inCluster: kind = "inCluster"
        }
        return MemberStatus(
            cluster: id, sourceKind: kind, source: configuration.source.description, link: link.state,
            everSynced: link.everSynced, lastSync: link.observedAt, lastEvent: lastEvent, locality: topology.locality,
            objects: cache.objectCounts, conditions: conditions, drain: drain)
    }

    /// Re-derives the topology from the configuration and Nodes; returns whether it changed.
    mutating func refreshTopology() -> Bool {
        let resolved = MemberTopology.resolve(
            region: configuration.region,
            zones: configuration.zones,
            nodes: cache.nodes.values
        )
        guard resolved != topology else { return false }
        topology = resolved
        return true
    }

    /// This member's share of `key`, when the member has been read at least once and exports the service.
    func input(for key: ServiceKey, policy: ExportPolicy) -> MergeInput? {
        guard link.everSynced, let service = cache.service(key) else { return nil }
        let export = cache.exports[key]
        guard policy.reason(for: service, export: export) != nil else { return nil }
        return MergeInput(
            cluster: id,
            topology: topology,
            link: link.state,
            drain: drain,
            lastObserved: link.observedAt,
            service: service,
            slices: cache.slices(of: key),
            serviceExport: export,
            nodes: cache.nodes
        )
    }
}
