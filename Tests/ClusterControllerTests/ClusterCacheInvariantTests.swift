@testable import ClusterController
import KubeClient
import MCDNSModel
import Testing

/// Issue 21: the cluster cache states what must hold (`ClusterCache.validate()`) and stays sound through
/// upserts, relabels, renames and deletes of services and slices, conventional and not.
@Suite struct ClusterCacheInvariantTests {
    static func slice(_ name: String, service: String?, addresses: [IPAddress] = ["10.0.0.1"]) -> KubeObject {
        var slice = KubeEndpointSlice(metadata: KubeObjectMeta(namespace: "shop", name: name), serviceName: service,
                                      addressType: .ipv4)
        slice.endpoints = addresses.map { KubeEndpointSlice.Endpoint(addresses: [$0]) }
        return .endpointSlice(slice)
    }

    @Test func staysSoundThroughSliceEvents() {
        var cache = ClusterCache()
        let steps: [MemberEvent] = [
            .upsert(Self.slice("web-abc", service: "web")),
            .upsert(Self.slice("web-abd", service: "web", addresses: ["10.0.0.2", "10.0.0.3"])),
            .upsert(Self.slice("custom", service: "web")),
            .upsert(Self.slice("web-x-1", service: "web-x")),
            // Relabelled to another service, and to none.
            .upsert(Self.slice("web-abd", service: "api")),
            .upsert(Self.slice("custom", service: nil)),
            .delete(KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: "web-abc")),
            .replace(.endpointSlice, [Self.slice("web-x-1", service: "web-x"), Self.slice("other", service: "web")]),
        ]
        for (index, step) in steps.enumerated() {
            _ = cache.apply(step)
            #expect(cache.validate() == [], "after step \(index)")
        }
        #expect(cache.slices(of: ServiceKey(namespace: "shop", name: "web")).map(\.metadata.name) == ["other"])
    }

    @Test func reportsAMiscount() {
        var cache = ClusterCache()
        _ = cache.apply(.upsert(Self.slice("web-abc", service: "web")))
        #expect(cache.validate() == [])
        cache.damageForTesting()
        #expect(cache.validate() != [])
    }
}
