import ClusterController
import Foundation
import KubeClient
import Logging
import MCDNSModel

/// Builders for the objects tests feed the merge and the controller.
enum Fixture {
    static let logger = Logger(label: "mcdns.test")

    static func date(_ text: String) -> Date {
        try! Date(text, strategy: .iso8601)
    }

    static func meta(
        _ name: String,
        namespace: String = "shop",
        created: String? = nil,
        annotations: [String: String] = [:]
    ) -> KubeObjectMeta {
        KubeObjectMeta(namespace: namespace, name: name, creationTimestamp: created.map(date), annotations: annotations)
    }

    static func service(
        _ name: String = "web",
        namespace: String = "shop",
        type: KubeService.ServiceType = .clusterIP,
        headless: Bool = false,
        clusterIPs: [IPAddress] = [],
        ports: [KubeService.Port] = [],
        externalName: String? = nil,
        publishNotReady: Bool = false,
        ingress: [KubeService.LoadBalancerIngress] = [],
        created: String? = nil,
        annotations: [String: String] = ["mcdns.io/export": "true"]
    ) -> KubeService {
        KubeService(
            metadata: meta(name, namespace: namespace, created: created, annotations: annotations),
            type: type,
            headless: headless,
            clusterIPs: clusterIPs,
            ports: ports,
            externalName: externalName,
            publishNotReadyAddresses: publishNotReady,
            loadBalancerIngress: ingress
        )
    }

    static func slice(
        _ name: String,
        service: String = "web",
        namespace: String = "shop",
        type: KubeEndpointSlice.AddressType = .ipv4,
        _ endpoints: [KubeEndpointSlice.Endpoint]
    ) -> KubeEndpointSlice {
        KubeEndpointSlice(
            metadata: meta(name, namespace: namespace),
            serviceName: service,
            addressType: type,
            endpoints: endpoints
        )
    }

    static func endpoint(
        _ address: IPAddress,
        ready: Bool? = nil,
        serving: Bool? = nil,
        terminating: Bool? = nil,
        hostname: String? = nil,
        zone: String? = nil,
        node: String? = nil
    ) -> KubeEndpointSlice.Endpoint {
        KubeEndpointSlice.Endpoint(
            addresses: [address],
            ready: ready,
            serving: serving,
            terminating: terminating,
            hostname: hostname,
            zone: zone,
            nodeName: node
        )
    }

    static func export(_ name: String = "web", namespace: String = "shop", created: String? = nil) -> KubeServiceExport
    {
        KubeServiceExport(metadata: meta(name, namespace: namespace, created: created))
    }

    static func topology(_ region: String, _ zone: String) -> MemberTopology {
        MemberTopology(region: region, zones: [zone])
    }

    static let east1 = topology("us-east-1", "us-east-1a")
    static let east2 = topology("us-east-1", "us-east-1b")
    static let west1 = topology("us-west-2", "us-west-2a")

    static let key = ServiceKey(namespace: "shop", name: "web")
}

extension ServiceDNSRecord {
    func condition(_ type: String) -> Condition? { status.conditions.first { $0.type == type } }
    func dns(_ cluster: ClusterID) -> ClusterDNS? { status.dns.first { $0.cluster == cluster } }
}
