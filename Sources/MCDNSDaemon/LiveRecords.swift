import ClusterController
public import DNSAnswer
import DNSWire
import MCDNSModel

/// Maps the configuration onto the naming rules and the controller: the one place that knows both sides.
public enum LiveRecords {
    /// The naming rules of DESIGN §4 as the configuration sets them.
    public static func naming(_ configuration: Configuration) -> NamingConfiguration {
        NamingConfiguration(
            federationName: configuration.federation?.name,
            federationDomain: configuration.federation?.domain,
            clustersetDomain: configuration.clusters.isEmpty ? nil : configuration.clusterset.domain,
            recordTTL: configuration.ttl.record,
            degradedTTL: configuration.ttl.degraded,
            negativeTTL: configuration.ttl.negative,
            localityPolicy: configuration.locality.policy.compactMap { DNSAnswer.LocalityLevel(rawValue: $0.rawValue) },
            ednsLocalOption: configuration.locality.requesters.ednsLocalOption,
            requesterSubnets: configuration.locality.requesters.subnets.map {
                RequesterSubnet(network: $0.cidr, cluster: $0.cluster)
            }
        )
    }

    /// True when the configuration asks for live names (members, or federation names to keep).
    static func enabled(_ configuration: Configuration) -> Bool {
        !configuration.clusters.isEmpty
    }

    /// The controller's view of the members.
    static func controllerConfiguration(_ configuration: Configuration) -> ControllerConfiguration {
        let members = configuration.clusters.map { cluster in
            let source: MemberSourceConfiguration
            switch cluster.source {
            case .manifests(let directory): source = .manifests(path: directory)
            case .kubeconfig(let path, let context): source = .kubeconfig(path: path, context: context)
            case .tunnel: source = .tunnel
            case .inCluster: source = .inCluster
            }
            return MemberConfiguration(name: cluster.name, region: cluster.region,
                                       zones: cluster.zones.isEmpty ? nil : cluster.zones, source: source)
        }
        let export = ExportPolicy(annotation: configuration.export.annotation,
                                  serviceExport: configuration.export.serviceExport,
                                  namespaces: Set(configuration.export.namespaces))
        return ControllerConfiguration(members: members, export: export,
                                       staleGracePeriod: configuration.staleGracePeriod)
    }
}
