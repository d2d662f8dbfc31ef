import DNSTestSupport
import Foundation
import KubeAPISimulator
import Testing

/// deploy/monitoring: every metric the Grafana dashboard and the Prometheus rules name exists in a running
/// daemon's /metrics (one with a `host:` block, as deployed), and promtool accepts the rules and their unit tests.
@Suite(.serialized) struct MonitoringFilesTests {
    static var directory: String { MCDNSProcess.packageRoot + "/deploy/monitoring" }

    /// The `mcdns_…` names in `text` (PromQL expressions in JSON or YAML).
    static func metricNames(in text: String) -> Set<String> {
        var names: Set<String> = []
        var current = ""
        for character in text + " " {
            if character.isLetter || character.isNumber || character == "_" {
                current.append(character)
                continue
            }
            if current.hasPrefix("mcdns_") { names.insert(current) }
            current = ""
        }
        return names
    }

    /// The series names /metrics declares: each `# TYPE` family, and a histogram's `_bucket`, `_sum` and `_count`.
    static func exportedNames(_ body: String) -> Set<String> {
        var names: Set<String> = []
        for line in body.split(separator: "\n") where line.hasPrefix("# TYPE ") {
            let fields = line.split(separator: " ")
            guard fields.count == 4 else { continue }
            let name = String(fields[2])
            names.insert(name)
            if fields[3] == "histogram" { names.formUnion([name + "_bucket", name + "_sum", name + "_count"]) }
        }
        return names
    }

    static func used() throws -> (dashboard: Set<String>, rules: Set<String>) {
        let dashboard = try String(contentsOfFile: directory + "/mcdns-dashboard.json", encoding: .utf8)
        let rules = try String(contentsOfFile: directory + "/mcdns-alerts.yaml", encoding: .utf8)
        // The dashboard is JSON Grafana can import.
        let object = try JSONSerialization.jsonObject(with: Data(dashboard.utf8)) as? [String: Any]
        #expect((object?["panels"] as? [Any])?.isEmpty == false)
        return (metricNames(in: dashboard), metricNames(in: rules))
    }

    @Test(.timeLimit(.minutes(2)))
    func everyMetricTheDashboardAndRulesUseIsExported() async throws {
        let (dashboard, rules) = try Self.used()
        // What the issue asks the dashboard and the alerts to show.
        #expect(
            dashboard.isSuperset(of: [
                "mcdns_dns_queries_total", "mcdns_dns_zone_queries_total", "mcdns_dns_answer_latency_seconds_bucket",
                "mcdns_member_link_state",
                "mcdns_member_last_sync_timestamp_seconds", "mcdns_records_stale_targets", "mcdns_relists_total",
                "mcdns_tunnel_sessions_total", "mcdns_leader", "mcdns_status_writes_total",
                "mcdns_records_state_writes_total",
            ])
        )
        #expect(
            rules.isSuperset(of: [
                "mcdns_member_link_state", "mcdns_leader", "mcdns_dns_queries_total", "mcdns_tunnel_connected",
                "mcdns_records_state_write_failures_total", "mcdns_daemon_start_time_seconds",
            ])
        )

        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(tokens: ["token-1": "replica-1"]))
        defer { Task { try? await sim.stop() } }
        let configs = try TemporaryDirectory()
        defer { configs.remove() }
        let kubeconfig = try HostClusterEndToEndTests.kubeconfig(
            configs,
            "replica-1",
            server: sim.baseURL,
            token: "token-1"
        )
        let daemon = try await ServedDaemon.start(extra: HostClusterEndToEndTests.host(kubeconfig))
        defer { daemon.remove() }
        let metrics = try daemon.http("/metrics")
        #expect(metrics.status == 200)
        let exported = Self.exportedNames(metrics.body)
        #expect(dashboard.subtracting(exported).sorted() == [], "the dashboard uses metrics /metrics lacks")
        #expect(rules.subtracting(exported).sorted() == [], "the rules use metrics /metrics lacks")
        // The new per-member series carry values: the demo members synced, none is stale.
        #expect(metrics.body.contains("mcdns_records_stale_targets{cluster=\"east-1\"} 0"))
        #expect(metrics.body.contains("mcdns_member_last_sync_timestamp_seconds{cluster=\"east-1\"} "))
        #expect(metrics.body.contains("mcdns_daemon_start_time_seconds "))
    }

    /// dig over UDP and TCP: answers and an NXDOMAIN count under their zone, a name outside every zone under `none`,
    /// and a zone nobody asked shows 0.
    @Test(.timeLimit(.minutes(1)))
    func queriesAreCountedByZone() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        let dig = try ProcessRunner.locate("dig", package: "dnsutils")
        let server = ["@127.0.0.1", "-p", "\(daemon.dnsPort)", "+tries=1", "+time=5"]
        for arguments in [
            ["web.shop.acme.svc.example.com", "A"], ["web.shop.acme.svc.example.com", "A", "+tcp"],
            ["nope.example.com", "A"], ["www.example.org", "A"], ["www.example.org", "A", "+tcp"],
        ] {
            let output = try ProcessRunner.run(dig, server + arguments)
            #expect(output.status == 0, "\(arguments): \(output.stderr)")
        }
        let body = try daemon.http("/metrics").body
        #expect(body.contains("mcdns_dns_zone_queries_total{zone=\"example.com.\"} 3\n"), "\(body)")
        #expect(body.contains("mcdns_dns_zone_queries_total{zone=\"none\"} 2\n"))
        #expect(body.contains("mcdns_dns_zone_queries_total{zone=\"clusterset.local.\"} 0\n"))
        #expect(body.contains("mcdns_dns_zone_queries_total{zone=\"other\"} 0\n"))
    }

    @Test func promtoolAcceptsTheRulesAndTheirUnitTests() throws {
        let promtool = try ProcessRunner.locate("promtool", package: "prometheus")
        let check = try ProcessRunner.run(
            promtool,
            ["check", "rules", "mcdns-alerts.yaml"],
            timeout: .seconds(30),
            currentDirectory: Self.directory
        )
        #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
        #expect(check.stdout.contains("SUCCESS: 8 rules found"))
        let unit = try ProcessRunner.run(
            promtool,
            ["test", "rules", "mcdns-alerts.test.yaml"],
            timeout: .seconds(30),
            currentDirectory: Self.directory
        )
        #expect(unit.status == 0, "\(unit.stdout)\(unit.stderr)")
        #expect(unit.stdout.contains("SUCCESS"))
    }
}
