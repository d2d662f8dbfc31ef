import DNSTestSupport
import ClusterController
import Foundation
import KubeClient
import MCDNSModel
import Testing

@Suite("Cache, topology and link state")
struct ClusterCacheTests {
    @Test func slicesAreFiledUnderTheirService() {
        var cache = ClusterCache()
        let web = ServiceKey(namespace: "shop", name: "web")
        let api = ServiceKey(namespace: "shop", name: "api")
        let added = cache.upsert(.endpointSlice(F.slice("s1", service: "web", [F.endpoint("10.0.0.1")])))
        #expect(added.keys == [web])
        // Relabelled to another service: both services are touched, the slice moves.
        let moved = cache.upsert(.endpointSlice(F.slice("s1", service: "api", [F.endpoint("10.0.0.1")])))
        #expect(moved.keys == [web, api])
        #expect(cache.slices(of: web).isEmpty)
        #expect(cache.slices(of: api).map(\.metadata.name) == ["s1"])
        let deleted = cache.delete(KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: "s1"))
        #expect(deleted.keys == [api])
        #expect(cache.allKeys.isEmpty)
    }

    /// A slice is filed under the service its label names, whatever its name: slices named after their service,
    /// named otherwise, and named after another service all move, update and leave as the labels say.
    @Test func aSliceIsFiledUnderTheServiceItsLabelNames() {
        var cache = ClusterCache()
        let key = { (name: String) in ServiceKey(namespace: "shop", name: name) }
        let ref = { (name: String) in KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: name) }
        // Named after its service, after a service whose name starts the same, after another service, or not at all.
        _ = cache.upsert(.endpointSlice(F.slice("web-api-1", service: "web-api", [F.endpoint("10.0.0.1")])))
        _ = cache.upsert(.endpointSlice(F.slice("web-2", service: "web", [F.endpoint("10.0.0.2")])))
        _ = cache.upsert(.endpointSlice(F.slice("web-3", service: "api", [F.endpoint("10.0.0.3")])))
        _ = cache.upsert(.endpointSlice(F.slice("odd", service: "web", [F.endpoint("10.0.0.4")])))
        _ = cache.upsert(.endpointSlice(F.slice("web", service: "web", [F.endpoint("10.0.0.5")])))
        #expect(cache.objectCounts["endpointSlices"] == 5)
        #expect(cache.slices(of: key("web-api")).map(\.metadata.name) == ["web-api-1"])
        #expect(cache.slices(of: key("web")).map(\.metadata.name) == ["odd", "web", "web-2"])
        #expect(cache.slices(of: key("api")).map(\.metadata.name) == ["web-3"])
        #expect(Set(cache.refs(of: .endpointSlice).map(\.name)) == ["web-api-1", "web-2", "web-3", "odd", "web"])
        // An update stays in place, never a second copy.
        #expect(cache.upsert(.endpointSlice(F.slice("web-api-1", service: "web-api", [F.endpoint("10.0.1.1")]))).keys
            == [key("web-api")])
        #expect(cache.slices(of: key("web-api")).flatMap(\.endpoints).map(\.addresses) == [["10.0.1.1"]])
        // Relabelled: from its name's service to another, back again, and from another to its name's service.
        #expect(cache.upsert(.endpointSlice(F.slice("web-2", service: "api", [F.endpoint("10.0.0.2")]))).keys
            == [key("web"), key("api")])
        #expect(cache.upsert(.endpointSlice(F.slice("web-3", service: "web", [F.endpoint("10.0.0.3")]))).keys
            == [key("web"), key("api")])
        #expect(cache.slices(of: key("web")).map(\.metadata.name) == ["odd", "web", "web-3"])
        #expect(cache.slices(of: key("api")).map(\.metadata.name) == ["web-2"])
        #expect(cache.upsert(.endpointSlice(F.slice("odd", service: "api", [F.endpoint("10.0.0.4")]))).keys
            == [key("web"), key("api")])
        #expect(cache.objectCounts["endpointSlices"] == 5)
        // Deletes find every slice, whoever holds it; a slice not held touches nothing.
        #expect(cache.delete(ref("web-2")).keys == [key("api")])
        #expect(cache.delete(ref("odd")).keys == [key("api")])
        #expect(cache.delete(ref("web-3")).keys == [key("web")])
        #expect(cache.delete(ref("web-3")).keys.isEmpty)
        #expect(cache.delete(ref("nothing-here")).keys.isEmpty)
        #expect(cache.delete(ref("web")).keys == [key("web")])
        #expect(cache.delete(ref("web-api-1")).keys == [key("web-api")])
        #expect(cache.objectCounts["endpointSlices"] == 0)
        #expect(cache.allKeys.isEmpty)
        // A slice in another namespace with the same name is another slice.
        _ = cache.upsert(.endpointSlice(F.slice("web-1", service: "web", [F.endpoint("10.0.0.1")])))
        #expect(cache.delete(KubeObjectRef(kind: .endpointSlice, namespace: "other", name: "web-1")).keys.isEmpty)
        #expect(cache.objectCounts["endpointSlices"] == 1)
    }

    @Test func aServiceKeepsItsSlicesInNameOrder() {
        var cache = ClusterCache()
        let web = ServiceKey(namespace: "shop", name: "web")
        for name in ["s2", "s3", "s1"] {
            _ = cache.upsert(.endpointSlice(F.slice(name, service: "web", [F.endpoint("10.0.0.1")])))
        }
        #expect(cache.slices(of: web).map(\.metadata.name) == ["s1", "s2", "s3"])
        // An update replaces the slice in its place.
        _ = cache.upsert(.endpointSlice(F.slice("s2", service: "web", [F.endpoint("10.0.0.9")])))
        #expect(cache.slices(of: web).map(\.metadata.name) == ["s1", "s2", "s3"])
        #expect(cache.slices(of: web)[1].endpoints.map(\.addresses) == [["10.0.0.9"]])
        // A delete takes out that slice only; the last delete forgets the service.
        _ = cache.delete(KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: "s1"))
        #expect(cache.slices(of: web).map(\.metadata.name) == ["s2", "s3"])
        _ = cache.delete(KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: "s3"))
        _ = cache.delete(KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: "s2"))
        #expect(cache.slices(of: web).isEmpty)
        #expect(cache.allKeys.isEmpty)
        #expect(cache.objectCounts["endpointSlices"] == 0)
    }

    /// The cache keeps slices as the merge reads them: every endpoint field comes back as it went in, absent
    /// conditions stay absent, and long or non-ASCII text survives; uid, resourceVersion and ports are not kept.
    @Test func cachedSlicesGiveBackEveryEndpointField() {
        var cache = ClusterCache()
        let web = ServiceKey(namespace: "shop", name: "web")
        let endpoints = [
            KubeEndpointSlice.Endpoint(addresses: ["fd00::1", "fd00::2"], ready: true, serving: false,
                                       terminating: true, hostname: "web-0", zone: "eu-west-1a", nodeName: "node-1"),
            KubeEndpointSlice.Endpoint(addresses: ["fd00::3"]),
            KubeEndpointSlice.Endpoint(addresses: ["fd00::4"], ready: false, serving: nil, terminating: false,
                                       hostname: String(repeating: "h", count: 200), zone: "zöne", nodeName: nil),
        ]
        let slice = KubeEndpointSlice(metadata: KubeObjectMeta(namespace: "shop", name: "web-abc", uid: "u-1",
                                                               resourceVersion: "42"),
                                      serviceName: "web", addressType: .ipv6, endpoints: endpoints,
                                      ports: [KubeEndpointSlice.Port(name: "http", protocol: "TCP", port: 8080)])
        _ = cache.upsert(.endpointSlice(slice))
        let back = cache.slices(of: web)
        #expect(back.count == 1)
        #expect(back.first?.endpoints == endpoints)
        #expect(back.first?.addressType == .ipv6)
        #expect(back.first?.metadata.name == "web-abc" && back.first?.metadata.namespace == "shop")
        #expect(back.first?.serviceName == "web")
        #expect(back.first?.metadata.uid == nil && back.first?.metadata.resourceVersion == nil)
        #expect(back.first?.ports.isEmpty == true)
        // A slice without endpoints comes back empty.
        _ = cache.upsert(.endpointSlice(KubeEndpointSlice(metadata: KubeObjectMeta(namespace: "shop", name: "web-def"),
                                                          serviceName: "web", addressType: .ipv4)))
        #expect(cache.slices(of: web).map(\.endpoints.count) == [3, 0])
    }

    /// The cached Service gives back every field the merge reads, for every type, with absent and present
    /// optionals, non-ASCII text, a 300-byte annotation and a creation time to the sub-second; annotations
    /// written in two orders are equal.
    @Test func cachedServicesGiveBackEveryField() {
        let created = Date(timeIntervalSince1970: 1_714_564_800.125)
        var services: [KubeService] = []
        for type in KubeService.ServiceType.allCases {
            for variant in 0..<2 {
                let full = variant == 1
                services.append(KubeService(
                    metadata: KubeObjectMeta(namespace: "shop", name: "web", creationTimestamp: full ? created : nil,
                                             annotations: full ? ["mcdns.io/export": "true", "mcdns.io/ttl": "30",
                                                                  "mcdns.io/note": String(repeating: "ü", count: 150)] : [:]),
                    type: type, headless: full, clusterIPs: full ? [] : ["10.0.0.1", "fd00::1"],
                    ipFamilies: full ? ["IPv6"] : ["IPv4", "IPv6"],
                    ports: full ? [KubeService.Port(name: "http", port: 80), KubeService.Port(protocol: "UDP", port: 53),
                                   KubeService.Port(name: "big", protocol: "SCTP", port: 65535)] : [],
                    externalName: type == .externalName ? "db.example.org" : nil,
                    publishNotReadyAddresses: full,
                    loadBalancerIngress: full ? [KubeService.LoadBalancerIngress(ip: "203.0.113.7"),
                                                KubeService.LoadBalancerIngress(hostname: "lb.example.net"),
                                                KubeService.LoadBalancerIngress(ip: "203.0.113.8", hostname: "x"),
                                                KubeService.LoadBalancerIngress()] : []))
            }
        }
        for service in services {
            var cache = ClusterCache()
            _ = cache.upsert(.service(service))
            #expect(cache.service(ServiceKey(namespace: "shop", name: "web")) == service)
        }
        // The same annotations inserted in another order: equal, so the upsert touches nothing.
        var cache = ClusterCache()
        var service = services[1]
        _ = cache.upsert(.service(service))
        var reordered: [String: String] = [:]
        for key in service.metadata.annotations.keys.sorted(by: >) { reordered[key] = service.metadata.annotations[key] }
        service.metadata.annotations = reordered
        #expect(cache.upsert(.service(service)).keys.isEmpty)
        #expect(cache.serviceKeys == [ServiceKey(namespace: "shop", name: "web")])
    }

    /// The cache keeps Services without uid and resourceVersion: a new resourceVersion alone (a status or label
    /// change the merge does not read) touches nothing; a change the merge reads still does.
    @Test func aServiceWhoseResourceVersionAloneMovedTouchesNothing() {
        var cache = ClusterCache()
        var service = F.service()
        service.metadata.uid = "0b0e3a4c-5d6e-4f70-8192-a3b4c5d6e7f8"
        service.metadata.resourceVersion = "100"
        #expect(!cache.upsert(.service(service)).keys.isEmpty)
        let key = ServiceKey(namespace: service.metadata.namespace, name: service.metadata.name)
        #expect(cache.service(key)?.metadata.uid == nil)
        #expect(cache.service(key)?.metadata.resourceVersion == nil)
        service.metadata.resourceVersion = "101"
        #expect(cache.upsert(.service(service)).keys.isEmpty)
        service.ports.append(KubeService.Port(name: "metrics", port: 9090))
        #expect(cache.upsert(.service(service)).keys == [key])
        #expect(cache.service(key)?.ports.count == service.ports.count)
    }

    @Test func unchangedObjectsTouchNothing() {
        var cache = ClusterCache()
        let first = cache.upsert(.service(F.service()))
        let same = cache.upsert(.service(F.service()))
        #expect(!first.keys.isEmpty && same.keys.isEmpty)
        let node = cache.upsert(.node(KubeNode(name: "n", region: "r", zone: "z")))
        let nodeAgain = cache.upsert(.node(KubeNode(name: "n", resourceVersion: "2", region: "r", zone: "z")))
        #expect(node.topologyChanged && !nodeAgain.topologyChanged)
    }

    @Test func replaceIsADiff() {
        var cache = ClusterCache()
        _ = cache.upsert(.service(F.service("a")))
        _ = cache.upsert(.service(F.service("b")))
        _ = cache.upsert(.serviceExport(F.export("a")))
        let impact = cache.replace(.service, with: [.service(F.service("b")), .service(F.service("c"))])
        #expect(impact.keys == [ServiceKey(namespace: "shop", name: "a"), ServiceKey(namespace: "shop", name: "c")])
        #expect(Set(cache.serviceKeys.map(\.name)) == ["b", "c"])
        // Other kinds are untouched by a Service relist.
        #expect(cache.exports.count == 1)
    }

    @Test func topologyFromConfigurationOrNodes() {
        let nodes = [
            KubeNode(name: "a", region: "us-east-1", zone: "us-east-1b"),
            KubeNode(name: "b", region: "us-east-1", zone: "us-east-1a"),
            KubeNode(name: "c", region: "us-east-1", zone: "us-east-1b"),
            KubeNode(name: "d", region: "eu-west-1", zone: "eu-west-1a"),
        ]
        let derived = MemberTopology.resolve(region: nil, zones: nil, nodes: nodes)
        #expect(derived == MemberTopology(region: "us-east-1", zones: ["us-east-1b", "us-east-1a"]))
        let configured = MemberTopology.resolve(region: "ap-south-1", zones: ["ap-south-1c"], nodes: nodes)
        #expect(configured == MemberTopology(region: "ap-south-1", zones: ["ap-south-1c"]))
        let none = MemberTopology.resolve(region: nil, zones: nil, nodes: [KubeNode(name: "x")])
        #expect(none == MemberTopology(region: "unknown", zones: ["unknown"], regionKnown: false, zoneKnown: false))
        #expect(none.locality == Locality(region: "unknown", zone: "unknown"))
        let regionOnly = MemberTopology.resolve(region: "us-east-1", zones: nil, nodes: [KubeNode]())
        #expect(!regionOnly.isKnown && regionOnly.regionKnown)
    }

    @Test func linkTransitions() {
        let clock = ManualClock()
        var link = MemberLink<ManualClock.Instant>(grace: .seconds(60))
        #expect(link.state == .offline)
        let neverSynced = link.markLost(at: clock.now, wallClock: 1)
        #expect(neverSynced == nil && link.state == .offline)
        let first = link.markSynced(wallClock: 10)
        #expect(first && link.state == .synced && link.observedAt == 10)
        let again = link.markSynced(wallClock: 20)
        #expect(!again && link.observedAt == 10)
        let deadline = link.markLost(at: clock.now, wallClock: 30)
        #expect(deadline == clock.now.advanced(by: .seconds(60)))
        #expect(link.state == .stale && link.observedAt == 30)
        let early = link.expire(at: clock.now.advanced(by: .seconds(59)))
        #expect(!early && link.state == .stale)
        let due = link.expire(at: clock.now.advanced(by: .seconds(60)))
        #expect(due && link.state == .offline)
        let back = link.markSynced(wallClock: 40)
        #expect(back && link.state == .synced && link.observedAt == 40)
    }
}
