import DNSTestSupport
import Foundation
import KubeAPISimulator
import MCDNSDaemon
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 20 point 3 end to end: `mcdns drain` and `undrain` through the token-protected admin API, and
/// `clusters[].drain` reloaded by SIGHUP, seen by real `dig` queries against the real daemon.
@Suite(.serialized) struct DrainEndToEndTests {
    static let global = "web.shop.acme.svc.example.com"
    static let east1 = "203.0.113.10", east2 = "203.0.113.20", west1 = "198.51.100.30"
    /// How soon an answer must follow a drain: the bound LiveRecordsEndToEndTests holds a manifest edit to.
    static let bound = Duration.seconds(3)

    static func mcdns(_ arguments: [String]) throws -> ProcessOutput {
        try ProcessRunner.run(MCDNSProcess.binary, arguments, timeout: .seconds(30))
    }

    /// The global name's A records, sorted.
    static func addresses(_ dig: Dig) throws -> [String] {
        guard let response = try dig.query(global, "A") else { return ["<no response>"] }
        return response.answer.filter { $0.type == "A" }.flatMap(\.rdata).sorted()
    }

    /// Polls dig until `accept` holds, within `bound`; records an issue with the last answer otherwise.
    static func waitFor(_ dig: Dig, _ accept: ([String]) -> Bool) throws -> [String] {
        let start = ContinuousClock.now
        var last: [String] = []
        while ContinuousClock.now - start < bound {
            last = try addresses(dig)
            if accept(last) { return last }
            Thread.sleep(forTimeInterval: 0.05)
        }
        Issue.record("\(global) still answers \(last) after \(bound)")
        return last
    }

    @Test(.timeLimit(.minutes(3)))
    func drainAndUndrainChangeTheAnswers() async throws {
        let tokenDir = try TemporaryDirectory()
        defer { tokenDir.remove() }
        let tokenFile = try tokenDir.write("admin.token", "drain-token\n")
        let daemon = try await ServedDaemon.start(extra: "admin: { tokenFile: \(tokenFile), requireToken: true }")
        defer { daemon.remove() }
        let dig = try Dig(port: UInt16(daemon.dnsPort))
        let all = [Self.east1, Self.east2, Self.west1].sorted()
        #expect(try Self.waitFor(dig) { $0 == all } == all)
        let admin = ["--admin", daemon.admin]
        let authorized = admin + ["--token-file", tokenFile]

        // Without the token: refused, nothing drained.
        let refused = try Self.mcdns(["drain", "east-1"] + admin)
        #expect(refused.status == 4, "\(refused.stderr)")
        #expect(refused.stderr.contains("bearer token"))
        let curlRefused = try ProcessRunner.run(
            "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                              daemon.admin + "/v1/clusters/east-1/drain", "-H", "Authorization: Bearer wrong"],
            timeout: .seconds(20))
        #expect(curlRefused.stdout == "401")
        #expect(try Self.addresses(dig) == all)

        // Drained: east-1's address leaves the answer within the bound; the cluster shows as drained.
        let drained = try Self.mcdns(["drain", "east-1", "--reason", "node upgrade"] + authorized)
        #expect(drained.status == 0, "\(drained.stderr)")
        #expect(drained.stdout.contains("east-1 drained by mcdns drain (node upgrade)"), "\(drained.stdout)")
        #expect(try Self.waitFor(dig) { !$0.contains(Self.east1) } == [Self.east2, Self.west1].sorted())
        let clustersJSON = try Self.mcdns(["clusters", "--output", "json"] + authorized)
        let clusters = try JSONDecoder().decode(AdminViews.Clusters.self, from: Data(clustersJSON.stdout.utf8))
        let east = try #require(clusters.clusters.first { $0.name == "east-1" })
        #expect(east.drained == true && east.drainedBy == "admin" && east.drainReason == "node upgrade")
        #expect(east.link == "synced", "its watches go on")
        #expect(clusters.clusters.filter { $0.drained == true }.map(\.name) == ["east-1"])
        let table = try Self.mcdns(["clusters"] + authorized)
        #expect(table.stdout.contains("synced,drained") && table.stdout.contains("drained by admin: node upgrade"),
                "\(table.stdout)")
        let metrics = try daemon.http("/metrics", token: "drain-token").body
        #expect(metrics.contains("mcdns_cluster_drained{cluster=\"east-1\"} 1"))
        #expect(metrics.contains("mcdns_cluster_drained{cluster=\"west-1\"} 0"))
        let records = try JSONDecoder().decode(
            AdminViews.Records.self, from: Data(try daemon.http("/v1/records/shop/web", token: "drain-token").body.utf8))
        let web = try #require(records.records.first)
        #expect(web.status.conditions.contains { $0.type == "Drained" && $0.reason == "ClusterDrained" })
        #expect(web.drained == ["east-1"])

        // Every healthy cluster drained: the answer is as if none were, and explain and the log say so.
        for cluster in ["east-2", "west-1"] {
            #expect(try Self.mcdns(["drain", cluster] + authorized).status == 0)
        }
        #expect(try Self.waitFor(dig) { $0 == all } == all)
        #expect(await daemon.stderr.wait(for: "every healthy cluster of these services is drained", timeout: .seconds(10)))
        let explain = try Self.mcdns(["explain", Self.global] + authorized)
        #expect(explain.stdout.contains("is drained: answering as if none were"), "\(explain.stdout)")

        // Undrained: back to normal; undraining again says it was not drained; an unknown cluster is not found.
        for cluster in ["east-2", "west-1"] {
            #expect(try Self.mcdns(["undrain", cluster] + authorized).status == 0)
        }
        #expect(try Self.waitFor(dig) { $0 == [Self.east2, Self.west1].sorted() } == [Self.east2, Self.west1].sorted())
        let undrained = try Self.mcdns(["undrain", "east-1"] + authorized)
        #expect(undrained.status == 0 && undrained.stdout.contains("east-1 undrained"), "\(undrained.stdout)")
        #expect(try Self.waitFor(dig) { $0 == all } == all)
        #expect(try Self.mcdns(["undrain", "east-1"] + authorized).stdout.contains("was not drained"))
        let unknown = try Self.mcdns(["drain", "nowhere-9"] + authorized)
        #expect(unknown.status == 5 && unknown.stderr.contains("members: east-1, east-2, west-1"), "\(unknown.stderr)")

        // clusters[].drain in the configuration, applied by SIGHUP without restarting the members' watches;
        // `mcdns undrain` cannot end it.
        let config = ServedDaemon.config(
            dir: daemon.dir, dnsPort: daemon.dnsPort, adminPort: daemon.adminPort,
            extra: "admin: { tokenFile: \(tokenFile), requireToken: true }"
        ).replacingOccurrences(of: "{ name: west-1, source: { manifests: members/west-1 } }",
                               with: "{ name: west-1, drain: true, source: { manifests: members/west-1 } }")
        #expect(config.contains("drain: true"))
        _ = try daemon.dir.write("mcdns.yaml", config)
        daemon.kill(SIGHUP)
        #expect(await daemon.stderr.wait(for: "configuration reloaded", timeout: .seconds(20)))
        #expect(try Self.waitFor(dig) { !$0.contains(Self.west1) } == [Self.east1, Self.east2].sorted())
        #expect(!daemon.stderr.all.contains("members replaced"))
        let configured = try Self.mcdns(["undrain", "west-1"] + authorized)
        #expect(configured.status == 64 && configured.stderr.contains("drained by the configuration"),
                "\(configured.stderr)")
        #expect(await daemon.stop() == 0)
    }

    /// The leader's status writer puts the drain into the status of every ServiceDNSRecord the cluster exports.
    @Test(.timeLimit(.minutes(2)))
    func theStatusOfAffectedRecordsSaysDrained() async throws {
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(tokens: ["token-1": "replica-1"]))
        defer { Task { try? await sim.stop() } }
        let configs = try TemporaryDirectory()
        defer { configs.remove() }
        let kubeconfig = try HostClusterEndToEndTests.kubeconfig(configs, "replica-1", server: sim.baseURL,
                                                                 token: "token-1")
        let daemon = try await ServedDaemon.start(extra: HostClusterEndToEndTests.host(kubeconfig))
        defer { daemon.remove() }
        func drainedCondition() -> [String: Any]? {
            guard let text = sim.get(.serviceDNSRecords, namespace: "shop", name: "web"),
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                let conditions = (object["status"] as? [String: Any])?["conditions"] as? [[String: Any]]
            else { return nil }
            return conditions.first { $0["type"] as? String == "Drained" }
        }
        #expect(await HostClusterEndToEndTests.eventually(timeout: .seconds(20)) {
            sim.get(.serviceDNSRecords, namespace: "shop", name: "web") != nil
        })
        #expect(drainedCondition() == nil)
        let drained = try Self.mcdns(["drain", "east-2", "--reason", "kernel", "--admin", daemon.admin])
        #expect(drained.status == 0, "\(drained.stderr)")
        #expect(await HostClusterEndToEndTests.eventually(timeout: .seconds(10)) { drainedCondition() != nil })
        let condition = try #require(drainedCondition())
        #expect(condition["status"] as? String == "True")
        #expect(condition["reason"] as? String == "ClusterDrained")
        #expect((condition["message"] as? String)?.contains("east-2 drained by mcdns drain (kernel)") == true)
        #expect(await daemon.stop() == 0)
    }

    @Test func theCommandsHaveHelp() throws {
        for command in ["drain", "undrain"] {
            let help = try Self.mcdns([command, "--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("USAGE: mcdns \(command) <cluster>"), "\(help.stdout)")
        }
        #expect(try Self.mcdns(["drain", "--help"]).stdout.contains("--reason"))
    }
}
