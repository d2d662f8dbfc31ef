import ClusterController
import Foundation
import MCDNSModel
import Testing

/// The demo federation (`examples/demo/members`) through the real manifest sources and controller: the worked
/// example the DNS side and `make demo` build on.
@Suite("Demo members")
struct DemoMembersTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/demo/members").path

    static func key(_ name: String) -> ServiceKey { ServiceKey(namespace: "shop", name: name) }

    @Test func threeMembersTwoRegions() async throws {
        let members: [MemberConfiguration] = ["east-1", "east-2", "west-1"].map {
            MemberConfiguration(name: ClusterID($0), source: .manifests(path: Self.root + "/" + $0))
        }
        let configuration = ControllerConfiguration(members: members)
        let sources: [any MemberSource] = members.map { member in
            ManifestSource(
                cluster: member.name,
                directory: Self.root + "/" + member.name.rawValue,
                pollInterval: .milliseconds(50),
                logger: F.logger
            )
        }
        let harness = try ControllerHarness(configuration: configuration, sources: sources, clock: ContinuousClock())
        defer { harness.task.cancel() }

        let state = try #require(
            await harness.sink.wait {
                $0.clusters.count == 3 && $0.clusters.allSatisfy { $0.link == .synced } && $0.records.count == 4
                    && $0.records[Self.key("web")]?.status.dns.count == 3
            }
        )

        // Topology from the Nodes' labels.
        #expect(
            state.clusters.map(\.locality) == [
                Locality(region: "us-east-1", zone: "us-east-1a"),
                Locality(region: "us-east-1", zone: "us-east-1b"),
                Locality(region: "us-west-2", zone: "us-west-2a"),
            ]
        )
        #expect(Set(state.records.keys) == [Self.key("web"), Self.key("api"), Self.key("db"), Self.key("legacy")])

        let web = try #require(state.records[Self.key("web")])
        #expect(web.status.dns.map(\.readyEndpoints) == [3, 3, 6])
        #expect(web.dns("east-2")?.endpoints.count == 4)
        #expect(web.dns("east-1")?.loadBalancer == [LoadBalancerIngress(ip: "203.0.113.10")])
        #expect(
            web.dns("west-1")?.loadBalancer == [
                LoadBalancerIngress(ip: "198.51.100.30"),
                LoadBalancerIngress(ip: "2001:db8:30::10"),
            ]
        )
        #expect(web.dns("west-1")?.clusterIPs == ["172.22.0.10", "fd00:22::10"])
        // east-1's third endpoint has no zone; it comes from its node.
        #expect(web.dns("east-1")?.endpoints.map(\.zone) == ["us-east-1a", "us-east-1a", "us-east-1a"])
        #expect(web.condition("Ready")?.status == .true)
        #expect(web.condition("Conflict") == nil)

        let api = try #require(state.records[Self.key("api")])
        #expect(
            api.status.ports == [
                ServicePort(name: "grpc", protocol: "TCP", port: 9090),
                ServicePort(name: "http", protocol: "TCP", port: 8080),
            ]
        )
        #expect(api.status.dns.map(\.clusterIPs) == [["172.20.0.20"], ["172.21.0.20"], ["172.22.0.20"]])

        let db = try #require(state.records[Self.key("db")])
        #expect(db.status.headless)
        #expect(db.status.dns.map(\.cluster) == ["east-1", "west-1"])
        #expect(db.dns("east-1")?.endpoints.compactMap(\.hostname) == ["db-0", "db-1"])

        let legacy = try #require(state.records[Self.key("legacy")])
        #expect(legacy.status.externalTarget == "legacy.corp.example.net")
        await harness.stop()
    }
}
