import DNSTestSupport
import Foundation
import Testing

/// Issue 3 end to end: the demo members as manifest directories, the real `mcdns serve`, real `dig` and `kdig`.
@Suite(.serialized) struct LiveRecordsEndToEndTests {
    static let demo = TestZones.packageRoot.appendingPathComponent("examples/demo/members")
    static let zones = TestZones.packageRoot.appendingPathComponent("zones").path
    let g = "web.shop.acme.svc.example.com"

    /// A copy of the demo members we may edit, and a daemon serving it.
    func start() throws -> (TemporaryDirectory, MCDNSProcess, Dig) {
        let members = try TemporaryDirectory(prefix: "mcdns-members")
        for cluster in ["east-1", "east-2", "west-1"] {
            try FileManager.default.copyItem(at: Self.demo.appendingPathComponent(cluster),
                                             to: members.url.appendingPathComponent(cluster))
        }
        let process = try MCDNSProcess.start(binary: KnotDifferentialTests.mcdnsBinary, zonesDir: Self.zones, extraConfig: """
            federation: { name: acme, domain: example.com }
            locality:
              requesters:
                subnets: [ { cidr: 10.3.0.0/16, cluster: west-1 } ]
            clusters:
              - { name: east-1, source: { manifests: "\(members.path)/east-1" } }
              - { name: east-2, source: { manifests: "\(members.path)/east-2" } }
              - { name: west-1, source: { manifests: "\(members.path)/west-1" } }
            """)
        let dig = try Dig(port: process.port)
        // Members sync a moment after the DNS port opens.
        _ = try Self.waitFor(dig, g, "A", within: .seconds(10)) { $0.count == 3 }
        return (members, process, dig)
    }

    /// The answer's rdata for one type, sorted.
    static func rdata(_ dig: Dig, _ name: String, _ type: String, options: [String] = []) throws -> [String] {
        guard let response = try dig.query(name, type, options: options) else { return ["<no response>"] }
        return response.answer.filter { $0.type == type }.flatMap(\.rdata).sorted()
    }

    /// Polls until `accept` holds; returns how long it took. Fails the test with the last answer otherwise.
    static func waitFor(_ dig: Dig, _ name: String, _ type: String, within limit: Duration,
                        _ accept: ([String]) -> Bool) throws -> Duration {
        let start = ContinuousClock.now
        var last: [String] = []
        while ContinuousClock.now - start < limit {
            last = try rdata(dig, name, type)
            if accept(last) { return ContinuousClock.now - start }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("\(name) \(type) still answers \(last) after \(limit)")
        return limit
    }

    @Test func servesTheDemoFederation() throws {
        let (members, process, dig) = try start()
        defer { process.stop(); members.remove() }
        #expect(try Self.rdata(dig, g, "A") == ["198.51.100.30", "203.0.113.10", "203.0.113.20"])
        #expect(try Self.rdata(dig, g, "AAAA") == ["2001:db8:30::10"])
        #expect(try Self.rdata(dig, "web.shop.acme.svc.us-east-1.example.com", "A") == ["203.0.113.10", "203.0.113.20"])
        #expect(try Self.rdata(dig, "web.shop.acme.svc.us-east-1b.us-east-1.example.com", "A") == ["203.0.113.20"])
        #expect(try Self.rdata(dig, "web.shop.svc.clusterset.local", "A") == ["172.20.0.10", "172.21.0.10", "172.22.0.10"])
        let unknown = try #require(try dig.query("nothing.shop.acme.svc.example.com", "A"))
        #expect(unknown.rcode == "NXDOMAIN")
        #expect(unknown.aa)
        // The service that is not exported has no names.
        #expect(try dig.query("cache.shop.acme.svc.example.com", "A")?.rcode == "NXDOMAIN")
        #expect(try Self.rdata(dig, "dns-version.clusterset.local", "TXT") == ["\"1.0.0\""])
    }

    @Test func requestersGetTheirNearestTargets() throws {
        let (members, process, dig) = try start()
        defer { process.stop(); members.remove() }
        // EDNS Client Subnet inside west-1's 10.3.0.0/16: west-1's own load balancer, and the scope in the reply.
        let ecs = try #require(try dig.query(g, "A", options: ["+subnet=10.3.7.0/24"]))
        #expect(ecs.answer.flatMap(\.rdata) == ["198.51.100.30"])
        let raw = try ProcessRunner.run("/usr/bin/dig", dig.arguments(g, "A", options: ["+subnet=10.3.7.0/24"]))
        #expect(raw.stdout.contains("CLIENT-SUBNET: 10.3.7.0/24/16"), "\(raw.stdout)")
        // A subnet nobody claims: every healthy cluster, scope 0.
        #expect(try Self.rdata(dig, g, "A", options: ["+subnet=192.0.2.0/24"]).count == 3)
        // The private option naming the cluster, as CoreDNS's `rewrite edns0 local set 0xffee east-2` sends it.
        let hex = "east-2".utf8.map { String(format: "%02x", $0) }.joined()
        #expect(try Self.rdata(dig, g, "A", options: ["+ednsopt=65518:\(hex)"]) == ["203.0.113.20"])
        let kdig = try ProcessRunner.run("/usr/bin/kdig", ["@127.0.0.1", "-p", String(process.port), g, "A",
                                                           "+ednsopt=65518:\(hex)", "+short"])
        #expect(kdig.stdout.split(separator: "\n") == ["203.0.113.20"], "\(kdig.stdout)\(kdig.stderr)")
        // The option is never echoed back.
        #expect(!raw.stdout.contains("65518"))
    }

    @Test func answersFollowEditsToTheManifests() throws {
        let (members, process, dig) = try start()
        defer { process.stop(); members.remove() }
        let west = members.url.appendingPathComponent("west-1/web.yaml")
        let original = try String(contentsOf: west, encoding: .utf8)

        // Edit: the load balancer moves; the answer follows within a second.
        try original.replacingOccurrences(of: "198.51.100.30", with: "198.51.100.99").write(to: west, atomically: true, encoding: .utf8)
        let edited = try Self.waitFor(dig, g, "A", within: .seconds(3)) { $0.contains("198.51.100.99") }
        #expect(edited < .seconds(1), "edit took \(edited)")

        // Broken: the file is reported and its last good content keeps serving.
        try (original + "\n---\nkind: [unclosed\n").write(to: west, atomically: true, encoding: .utf8)
        Thread.sleep(forTimeInterval: 1.0)
        #expect(try Self.rdata(dig, g, "A").contains("198.51.100.99"))
        #expect(process.log.contains("web.yaml:"), "the broken file is reported with its line")

        // Add: a new exported service appears.
        let added = members.url.appendingPathComponent("east-1/shop-new.yaml")
        try """
            apiVersion: v1
            kind: Service
            metadata: { name: fresh, namespace: shop, annotations: { mcdns.io/export: "true" } }
            spec: { clusterIP: 172.20.0.77, ports: [ { name: http, protocol: TCP, port: 80 } ] }
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: { name: fresh-1, namespace: shop, labels: { kubernetes.io/service-name: fresh } }
            addressType: IPv4
            endpoints: [ { addresses: ["10.1.9.9"] } ]
            """.write(to: added, atomically: true, encoding: .utf8)
        let appeared = try Self.waitFor(dig, "fresh.shop.acme.svc.example.com", "A", within: .seconds(3)) { $0 == ["172.20.0.77"] }
        #expect(appeared < .seconds(1), "add took \(appeared)")

        // Delete: it goes away again.
        try FileManager.default.removeItem(at: added)
        let start = ContinuousClock.now
        while try dig.query("fresh.shop.acme.svc.example.com", "A")?.rcode != "NXDOMAIN",
              ContinuousClock.now - start < .seconds(3) { Thread.sleep(forTimeInterval: 0.05) }
        #expect(ContinuousClock.now - start < .seconds(1), "delete took \(ContinuousClock.now - start)")

        // Fixed again: back to the file's content.
        try original.write(to: west, atomically: true, encoding: .utf8)
        _ = try Self.waitFor(dig, g, "A", within: .seconds(3)) { $0.contains("198.51.100.30") }
    }
}
