import DNSTestSupport
import Foundation
import KubeAPISimulator
import Testing

/// Issue 18: `kubectl get servicednsrecords` through a real kubectl, with the simulator printing the CRD's own
/// additionalPrinterColumns server-side (a Table), so the columns are what a real cluster shows.
@Suite(.serialized) struct PrinterColumnsKubectlTests {
    static func columns() throws -> [SimPrinterColumn] {
        let text = try String(contentsOfFile: DeployFixture.path(CRDSchemaTests.crdFile), encoding: .utf8)
        let crd = try #require(try YAMLNode.documents(text).first)
        let version = try #require(crd["spec"]["versions"].array.first { $0["name"].string == "v1alpha1" })
        return try version["additionalPrinterColumns"].array.map { column in
            SimPrinterColumn(
                name: try #require(column["name"].string),
                type: try #require(column["type"].string),
                format: column["format"].string ?? "",
                description: column["description"].string ?? "",
                priority: column["priority"].int ?? 0,
                jsonPath: try #require(column["jsonPath"].string)
            )
        }
    }

    @Test func kubectlGetShowsEveryReadyClusterAndTheCount() async throws {
        var configuration = SimulatorConfiguration()
        configuration.printerColumns = [.serviceDNSRecords: try Self.columns()]
        let sim = try await KubeAPISimulator.start(configuration)
        defer { Task { try? await sim.stop() } }
        let created = try sim.create(
            #"{"apiVersion":"multicluster.mcdns.io/v1alpha1","kind":"ServiceDNSRecord","metadata":{"name":"web","namespace":"shop"},"spec":{"recordTTL":30,"dnsPrefix":"www"}}"#
        )
        let metadata = (try JSONSerialization.jsonObject(with: Data(created.utf8)) as? [String: Any])?["metadata"]
        let version = try #require((metadata as? [String: Any])?["resourceVersion"] as? String)
        _ = try sim.updateStatus(
            #"{"apiVersion":"multicluster.mcdns.io/v1alpha1","kind":"ServiceDNSRecord","metadata":{"name":"web","namespace":"shop","resourceVersion":""#
                + version
                + #""},"status":{"readyClusters":"east-1,east-2","readyCount":"2/3","headless":false,"dns":[{"cluster":"east-1"},{"cluster":"east-2"},{"cluster":"west-1"}],"conditions":[{"type":"Ready","status":"True","reason":"EndpointsReady","message":"ok"}]}}"#
        )

        let directory = try TemporaryDirectory(prefix: "printer-columns")
        defer { directory.remove() }
        let kubeconfig = try directory.write(
            "kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{ name: sim, cluster: { server: "\(sim.baseURL)" } }]
            users: [{ name: nobody, user: { username: nobody } }]
            contexts: [{ name: sim, context: { cluster: sim, user: nobody, namespace: shop } }]
            current-context: sim
            """
        )
        let kubectl = try DeployFixture.kubectl()
        func get(_ arguments: [String]) throws -> [[String]] {
            let output = try ProcessRunner.run(
                kubectl,
                ["--kubeconfig", kubeconfig, "--cache-dir", directory.path + "/cache", "--request-timeout", "10s"]
                    + arguments,
                timeout: .seconds(30)
            )
            #expect(output.status == 0, "\(output.stderr)")
            // Columns are separated by at least two spaces (one-space gaps are inside a header like READY CLUSTERS).
            return output.stdout.split(separator: "\n").map { line in
                line.components(separatedBy: "  ").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
                    !$0.isEmpty
                }
            }
        }

        let table = try get(["get", "servicednsrecords"])
        #expect(table.first == ["NAME", "READY", "CLUSTERS", "READY CLUSTERS", "HEADLESS", "TTL", "AGE"], "\(table)")
        #expect(
            Array(table.dropFirst().first?.prefix(6) ?? []) == ["web", "True", "east-1,east-2", "2/3", "false", "30"]
        )
        let wide = try get(["get", "sdr", "web", "-o", "wide"])
        #expect(wide.first?.suffix(4) == ["PREFIX", "POLICY", "REASON", "AGE"], "\(wide)")
        // web has no traffic policy: its POLICY cell is null, which kubectl prints blank (the split drops it).
        #expect(wide.dropFirst().first?.suffix(3).prefix(2) == ["www", "EndpointsReady"], "\(wide)")
        let all = try get(["get", "sdr", "-A"])
        #expect(all.first?.first == "NAMESPACE" && all.dropFirst().first?.first == "shop", "\(all)")
    }
}
