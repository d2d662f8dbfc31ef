import ClusterTunnel
import Testing

@Suite struct TunnelAllowListTests {
    let allowList = TunnelAllowList()

    @Test(arguments: [
        "/version", "/api", "/apis", "/api/v1", "/apis/discovery.k8s.io/v1", "/apis/multicluster.x-k8s.io/v1alpha1",
        "/api/v1/services", "/api/v1/services?watch=1&resourceVersion=5&allowWatchBookmarks=true",
        "/api/v1/namespaces/default/services", "/api/v1/nodes?limit=500",
        "/apis/discovery.k8s.io/v1/endpointslices", "/apis/discovery.k8s.io/v1/namespaces/kube-system/endpointslices",
        "/apis/multicluster.x-k8s.io/v1alpha1/serviceexports",
        "/apis/multicluster.x-k8s.io/v1alpha1/namespaces/shop/serviceexports?watch=true",
        "/api/v1/namespaces/kube-system",
    ])
    func allowed(_ path: String) {
        #expect(allowList.allows(method: "GET", target: path))
    }

    @Test(arguments: [
        "/api/v1/secrets", "/api/v1/namespaces/default/secrets", "/api/v1/pods", "/api/v1/services/kube-dns",
        "/api/v1/namespaces/default/services/web", "/api/v1/namespaces/default/services/web/proxy",
        "/api/v1/services/../secrets", "/api/v1/namespaces/../services", "/api/v1/namespaces/a%2Fb/services",
        "/api/v1/namespaces//services", "/api/v1/nodes/n1", "/api/v1/namespaces/default/nodes", "//api/v1/services",
        "/apis/apps/v1/deployments", "api/v1/services", "", "/apis/discovery.k8s.io/v1beta1/endpointslices",
        "/api/v1/namespaces/default", "/api/v1/namespaces", "/api/v1/namespaces/kube-system/secrets",
        "/api/v1/namespaces/kube-system/status",
    ])
    func refused(_ path: String) {
        #expect(!allowList.allows(method: "GET", target: path))
    }

    @Test(arguments: ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "get"])
    func onlyGET(_ method: String) {
        #expect(!allowList.allows(method: method, target: "/api/v1/services"))
    }
}

@Suite struct ReconnectBackoffTests {
    @Test func doublesUpToTheMaximumAndResetsAfterAStableConnection() {
        var backoff = ReconnectBackoff()
        let top: (ClosedRange<Double>) -> Double = { $0.upperBound }
        let delays = (0..<7).map { _ in backoff.nextDelay(connectedFor: nil, random: top) }
        #expect(delays == [1, 2, 4, 8, 16, 30, 30].map { Duration.seconds($0) })
        // A connection that lasted less than 30 s does not reset the growth.
        #expect(backoff.nextDelay(connectedFor: .seconds(29), random: top) == .seconds(30))
        #expect(backoff.nextDelay(connectedFor: .seconds(30), random: top) == .seconds(1))
        #expect(backoff.nextDelay(connectedFor: nil, random: top) == .seconds(2))
    }

    @Test func jitterStaysWithinHalfToFullDelay() {
        var backoff = ReconnectBackoff()
        #expect(backoff.nextDelay(connectedFor: nil) { $0.lowerBound } == .milliseconds(500))
        #expect(backoff.nextDelay(connectedFor: nil) { $0.lowerBound } == .seconds(1))
    }

    @Test func replacedWaitsTheMaximum() {
        var backoff = ReconnectBackoff()
        #expect(backoff.replaced() == .seconds(30))
    }
}

@Suite struct TunnelAgentConfigurationTests {
    @Test func parsesTheHostURL() throws {
        #expect(try TunnelAgentConfiguration.parse(url: "wss://mcdns.example.com:8443") == ("mcdns.example.com", 8443))
        #expect(try TunnelAgentConfiguration.parse(url: "wss://10.0.0.1:9443/tunnel/v1") == ("10.0.0.1", 9443))
        #expect(try TunnelAgentConfiguration.parse(url: "wss://[::1]:8443") == ("::1", 8443))
        #expect(try TunnelAgentConfiguration.parse(url: "wss://h") == ("h", 443))
        for bad in ["https://h:1", "ws://h:1", "h:8443", "wss://h:1/other"] {
            #expect(throws: TunnelError.invalidHostURL(bad)) { try TunnelAgentConfiguration.parse(url: bad) }
        }
    }
}
