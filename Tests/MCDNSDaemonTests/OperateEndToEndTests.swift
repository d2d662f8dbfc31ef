import DNSAnswer
import DNSTestSupport
import DNSWire
import Foundation
import MCDNSDaemon
import Testing
import Yams

#if canImport(Glibc)
import Glibc
#endif

/// Issue 6 end to end: the admin API and the CLI against a real daemon on loopback, signals, and restarts.
@Suite(.serialized) struct OperateEndToEndTests {
    static func mcdns(_ arguments: [String]) throws -> ProcessOutput {
        try ProcessRunner.run(MCDNSProcess.binary, arguments, timeout: .seconds(30))
    }

    static let global = "web.shop.acme.svc.example.com"

    /// The global answer once every member serves in it (west-1's address is there), or the last one after 10 s.
    static func globalAnswerOnceEveryMemberServes(_ daemon: ServedDaemon) async throws -> Message? {
        var answer = try daemon.query(global)
        for _ in 0..<100 where !(answer?.answer.contains { $0.hasSuffix("198.51.100.30") } ?? false) {
            try await Task.sleep(for: .milliseconds(100))
            answer = try daemon.query(global)
        }
        return answer
    }

    @Test(.timeLimit(.minutes(3)))
    func endpointsAndCommands() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        let admin = ["--admin", daemon.admin]
        // Every member syncs from its manifests at once: ready.
        var ready = try daemon.http("/readyz")
        for _ in 0..<50 where ready.status != 200 {
            try await Task.sleep(for: .milliseconds(100))
            ready = try daemon.http("/readyz")
        }
        #expect(ready.status == 200, "\(ready.body)")
        let health = try daemon.http("/healthz")
        #expect(health.status == 200)
        #expect(try JSONDecoder().decode(AdminViews.Health.self, from: Data(health.body.utf8)).status == "ok")

        // records: JSON and YAML parsed back.
        let json = try Self.mcdns(["records", "--output", "json"] + admin)
        #expect(json.status == 0, "\(json.stderr)")
        let records = try JSONDecoder().decode(AdminViews.Records.self, from: Data(json.stdout.utf8))
        let web = try #require(records.records.first { $0.name == "web" })
        #expect(web.namespace == "shop")
        #expect(Set(web.status.dns.map(\.cluster.rawValue)) == ["east-1", "east-2", "west-1"])
        #expect(web.names.contains("web.shop.acme.svc.example.com."))
        let yaml = try Self.mcdns(["records", "--namespace", "shop", "--output", "yaml"] + admin)
        #expect(yaml.status == 0, "\(yaml.stderr)")
        let fromYAML = try YAMLDecoder().decode(AdminViews.Records.self, from: yaml.stdout)
        // Equal but for the last digits of the lastObserved doubles, which YAML prints shorter.
        #expect(fromYAML.serial == records.serial)
        #expect(fromYAML.records.map(\.names) == records.records.map(\.names))
        #expect(
            fromYAML.records.map { $0.status.dns.map(\.endpoints) }
                == records.records.map { $0.status.dns.map(\.endpoints) }
        )
        let table = try Self.mcdns(["records"] + admin)
        #expect(table.stdout.contains("NAMESPACE") && table.stdout.contains("READY"))
        let one = try daemon.http("/v1/records/shop/web")
        #expect(one.status == 200)
        #expect(try JSONDecoder().decode(AdminViews.Records.self, from: Data(one.body.utf8)).records.count == 1)
        let missing = try Self.mcdns(["records", "--namespace", "shop", "--name", "nope"] + admin)
        #expect(missing.status == 5, "\(missing.stderr)")
        #expect(missing.stderr.contains("no record for service shop/nope"))

        // clusters.
        let clustersJSON = try Self.mcdns(["clusters", "--output", "json"] + admin)
        let clusters = try JSONDecoder().decode(AdminViews.Clusters.self, from: Data(clustersJSON.stdout.utf8))
        #expect(clusters.clusters.map(\.name) == ["east-1", "east-2", "west-1"])
        #expect(
            clusters.clusters.allSatisfy { $0.link == "synced" && $0.sourceKind == "manifests" && $0.lastSync != nil }
        )
        #expect(clusters.clusters.first?.objects["services"] ?? 0 > 0)
        let clustersYAML = try Self.mcdns(["clusters", "--output", "yaml"] + admin)
        #expect(try YAMLDecoder().decode(AdminViews.Clusters.self, from: clustersYAML.stdout).clusters.count == 3)

        // explain, as east-2: the cluster level answers.
        let explainJSON = try Self.mcdns(
            ["explain", Self.global, "--as-cluster", "east-2", "--output", "json"] + admin
        )
        #expect(explainJSON.status == 0, "\(explainJSON.stderr)")
        let explanation = try JSONDecoder().decode(Explanation.self, from: Data(explainJSON.stdout.utf8))
        #expect(explanation.step.contains("first level with healthy targets: cluster (east-2)"))
        #expect(explanation.answer.count == 1 && explanation.answer[0].hasSuffix("203.0.113.20"))
        #expect(explanation.candidates.count == 3)
        #expect(explanation.serial == records.serial)
        let explainText = try Self.mcdns(["explain", Self.global] + admin)
        #expect(explainText.stdout.contains("candidates:") && explainText.stdout.contains("ttl:"))
        #expect(explanation.strategy == "nearest" && explanation.policy == nil)
        #expect(explainText.stdout.contains("  strategy:   nearest\n"), "\(explainText.stdout)")
        let unknownCluster = try Self.mcdns(["explain", Self.global, "--as-cluster", "mars"] + admin)
        #expect(unknownCluster.status == 64)
        #expect(unknownCluster.stderr.contains("unknown cluster mars; known: east-1, east-2, west-1"))

        // query: UDP, TCP, the cluster option and ECS.
        let server = ["--server", "127.0.0.1:\(daemon.dnsPort)"]
        let asEast2 = try Self.mcdns(["query", Self.global, "--as-cluster", "east-2"] + server)
        #expect(asEast2.status == 0, "\(asEast2.stderr)")
        #expect(asEast2.stdout.contains("status: NOERROR") && asEast2.stdout.contains("203.0.113.20"))
        #expect(!asEast2.stdout.contains("198.51.100.30"), "east-2 gets its own cluster only")
        #expect(asEast2.stdout.contains(";; Query time:"))
        let overTCP = try Self.mcdns(["query", Self.global, "A", "--tcp"] + server)
        #expect(overTCP.stdout.contains("(TCP)") && overTCP.stdout.contains("198.51.100.30"))
        let subnet = try Self.mcdns(["query", Self.global, "--subnet", "192.0.2.0/24"] + server)
        #expect(subnet.status == 0 && subnet.stdout.contains("status: NOERROR"))
        let nx = try Self.mcdns(["query", "nope.example.com"] + server)
        #expect(nx.status == 0 && nx.stdout.contains("status: NXDOMAIN"))

        // metrics: the queries above were counted, members and the snapshot are there.
        let metrics = try daemon.http("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.body.contains("mcdns_dns_queries_total{transport=\"udp\",type=\"A\",rcode=\"NOERROR\"}"))
        #expect(metrics.body.contains("mcdns_dns_queries_total{transport=\"tcp\",type=\"A\",rcode=\"NOERROR\"}"))
        #expect(metrics.body.contains("mcdns_dns_queries_total{transport=\"udp\",type=\"A\",rcode=\"NXDOMAIN\"} 1"))
        #expect(metrics.body.contains("mcdns_member_link_state{cluster=\"east-1\",state=\"synced\"} 1"))
        #expect(metrics.body.contains("mcdns_records_snapshot_serial \(records.serial)"))
        #expect(metrics.body.contains("mcdns_dns_answer_latency_seconds_bucket{le=\"+Inf\"}"))
        #expect(metrics.body.contains("mcdns_records_services 4"))

        // What to do when nothing listens.
        let closed = try FreePort.pick()
        let unreachable = try Self.mcdns(["clusters", "--admin", "http://127.0.0.1:\(closed)"])
        #expect(unreachable.status == 3)
        #expect(unreachable.stderr.contains("is `mcdns serve` running?"))
        let noServer = try Self.mcdns(["query", Self.global, "--server", "127.0.0.1:\(closed)", "--timeout", "1"])
        #expect(noServer.status == 3, "\(noServer.stdout)\(noServer.stderr)")
        let bothRequesters = try Self.mcdns(["query", Self.global, "--as-cluster", "a", "--subnet", "10.0.0.0/8"])
        #expect(bothRequesters.status == 64)

        for command in ["query", "records", "clusters", "explain", "check", "serve"] {
            let help = try Self.mcdns([command, "--help"])
            #expect(help.status == 0 && help.stdout.contains("USAGE"), "\(command) --help")
        }
        #expect(await daemon.stop() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func theTokenIsRequiredWhenConfigured() async throws {
        let tokenDir = try TemporaryDirectory()
        defer { tokenDir.remove() }
        let tokenFile = try tokenDir.write("admin.token", "s3cret-token\n")
        let daemon = try await ServedDaemon.start(extra: "admin: { tokenFile: \(tokenFile), requireToken: true }")
        defer { daemon.remove() }
        #expect(try daemon.http("/v1/records").status == 401)
        #expect(try daemon.http("/v1/records", token: "wrong").status == 401)
        #expect(try daemon.http("/v1/records", token: "s3cret-toke").status == 401)
        #expect(try daemon.http("/metrics").status == 401)
        #expect(try daemon.http("/v1/records", token: "s3cret-token").status == 200)
        // Probes stay open.
        #expect(try daemon.http("/healthz").status == 200)
        let refused = try Self.mcdns(["records", "--admin", daemon.admin])
        #expect(refused.status == 4)
        #expect(refused.stderr.contains("bearer token"))
        let allowed = try Self.mcdns(["records", "--admin", daemon.admin, "--token-file", tokenFile])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(!daemon.stderr.all.contains("s3cret-token"), "the token is never logged")
        #expect(await daemon.stop() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func anAdminAddressBeyondLoopbackWithoutATokenIsRefused() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let config = try dir.write(
            "mcdns.yaml",
            "listen: { admin: \"0.0.0.0:9253\" }\nzonesDir: \(MCDNSProcess.packageRoot)/zones\n"
        )
        let check = try Self.mcdns(["check", "--config", config])
        #expect(check.status == 1)
        #expect(check.stdout.contains("beyond loopback: set admin.tokenFile"))
    }

    @Test(.timeLimit(.minutes(2)))
    func sighupReloadsAndABrokenConfigKeepsTheOldOne() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        // Wait for every member (west-1's address in the global answer).
        let first = try await Self.globalAnswerOnceEveryMemberServes(daemon)
        #expect(first?.answer.first?.contains("\t30\t") == true, "\(String(describing: first))")

        // A valid change: the record TTL.
        _ = try daemon.dir.write(
            "mcdns.yaml",
            ServedDaemon.config(
                dir: daemon.dir,
                dnsPort: daemon.dnsPort,
                adminPort: daemon.adminPort,
                extra: "ttl: { record: 61 }"
            )
        )
        daemon.kill(SIGHUP)
        #expect(await daemon.stderr.wait(for: "configuration reloaded", timeout: .seconds(20)))
        let reloaded = try daemon.query(Self.global)
        #expect(reloaded?.answer.first?.contains("\t61\t") == true, "\(String(describing: reloaded))")

        // Members change live: without west-1, its address leaves once the remaining members have resynced.
        #expect(
            reloaded?.answer.contains { $0.hasSuffix("198.51.100.30") } == true,
            "\(String(describing: reloaded?.answer))"
        )
        let withoutWest = ServedDaemon.config(
            dir: daemon.dir,
            dnsPort: daemon.dnsPort,
            adminPort: daemon.adminPort,
            extra: "ttl: { record: 61 }"
        )
        .replacingOccurrences(of: "  - { name: west-1, source: { manifests: members/west-1 } }\n", with: "")
        _ = try daemon.dir.write("mcdns.yaml", withoutWest)
        daemon.kill(SIGHUP)
        #expect(await daemon.stderr.wait(for: "members replaced", timeout: .seconds(20)), "\(daemon.stderr.all)")
        var west = true
        for _ in 0..<100 where west {
            try await Task.sleep(for: .milliseconds(100))
            west = try daemon.query(Self.global)?.answer.contains { $0.hasSuffix("198.51.100.30") } ?? true
        }
        #expect(!west, "west-1 left the answers")
        let clusters = try JSONDecoder().decode(
            AdminViews.Clusters.self,
            from: Data(try daemon.http("/v1/clusters").body.utf8)
        )
        #expect(clusters.clusters.map(\.name) == ["east-1", "east-2"])

        // A broken one: refused, the previous keeps serving.
        _ = try daemon.dir.write("mcdns.yaml", "ttl: { record: -3 }\nlisten: [\n")
        daemon.kill(SIGHUP)
        #expect(
            await daemon.stderr.wait(
                for: "reload refused; the previous configuration keeps serving",
                timeout: .seconds(20)
            )
        )
        let still = try daemon.query(Self.global)
        #expect(still?.rcode == .noError)
        #expect(still?.answer.first?.contains("\t61\t") == true)
        #expect(await daemon.stop() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func sigtermAnswersTCPQueriesInFlightAndExitsZero() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        // Several connections, each with a pipeline of queries written before the signal.
        var connections: [LoopbackTCPConnection] = []
        let perConnection = 20
        for _ in 0..<4 {
            let connection = try LoopbackTCPConnection(port: UInt16(daemon.dnsPort))
            var bytes: [UInt8] = []
            for index in 0..<perConnection {
                bytes += WireQuery.framed(
                    try Message.query(
                        name: try DomainName("example.com"),
                        type: .soa,
                        id: UInt16(index + 1)
                    )
                )
            }
            try connection.send(bytes)
            connections.append(connection)
        }
        daemon.kill(SIGTERM)
        var answered = 0
        for connection in connections {
            for _ in 0..<perConnection {
                guard let message = try connection.readMessage(timeout: .seconds(10)) else { break }
                if WireQuery.header(of: message)?.rcode == .noError { answered += 1 }
            }
        }
        #expect(answered == connections.count * perConnection)
        #expect(await daemon.stderr.waitForEnd(timeout: .seconds(30)))
        daemon.process.waitUntilExit()
        #expect(
            daemon.process.termination == .exit(0),
            "\(daemon.stderr.all)"
        )
    }

    /// Rewrites east-2's web Service with load balancer address 203.0.113.`octet`.
    static func setEast2Address(_ daemon: ServedDaemon, _ octet: Int) throws {
        let path = daemon.dir.path + "/members/east-2/web.yaml"
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let updated = text.replacingOccurrences(
            of: #"- ip: 203\.0\.113\.\d+"#,
            with: "- ip: 203.0.113.\(octet)",
            options: .regularExpression
        )
        // Atomic replace, as editors and kubectl-like tools do, so the poller never reads half a file.
        try updated.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A reload that adds a member which never syncs (its API server refuses connections): what is served keeps
    /// serving as in a warm start, and that resync ends once the reloaded `staleGracePeriod` has passed, as the warm
    /// start after a restart does, rather than lasting for good.
    @Test(.timeLimit(.minutes(2)))
    func aResyncAfterAReloadEndsAfterTheGraceWhenAMemberNeverSyncs() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        _ = try await Self.globalAnswerOnceEveryMemberServes(daemon)
        let ghost = try daemon.dir.write(
            "ghost.kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{ name: ghost, cluster: { server: "http://127.0.0.1:1" } }]
            users: [{ name: ghost, user: { token: t } }]
            contexts: [{ name: ghost, context: { cluster: ghost, user: ghost } }]
            current-context: ghost
            """
        )
        let west = "  - { name: west-1, source: { manifests: members/west-1 } }\n"
        let withGhost = ServedDaemon.config(dir: daemon.dir, dnsPort: daemon.dnsPort, adminPort: daemon.adminPort,
                                            extra: "")
            .replacingOccurrences(of: "staleGracePeriod: 2m", with: "staleGracePeriod: 3s")
            .replacingOccurrences(of: west, with: west + "  - { name: ghost, source: { kubeconfig: \(ghost) } }\n")
        #expect(withGhost.contains("name: ghost") && withGhost.contains("staleGracePeriod: 3s"))
        _ = try daemon.dir.write("mcdns.yaml", withGhost)
        daemon.kill(SIGHUP)
        #expect(await daemon.stderr.wait(for: "members replaced", timeout: .seconds(20)), "\(daemon.stderr.all)")
        func warm() -> Bool? {
            try? JSONDecoder().decode(AdminViews.Records.self, from: Data(try daemon.http("/v1/records").body.utf8))
                .warmStart
        }
        #expect(warm() == true, "ghost has not synced: the resync is in progress")
        #expect(
            await daemon.stderr.wait(for: "warm start over", timeout: .seconds(20)),
            "the resync ended after the grace: \(daemon.stderr.all)"
        )
        #expect(warm() == false)
        let still = try daemon.query(Self.global)
        #expect(still?.answer.contains { $0.hasSuffix("198.51.100.30") } == true, "the synced members keep serving")
        #expect(await daemon.stop() == 0)
    }

    @Test(.timeLimit(.minutes(3)))
    func killDashNineMidBurstThenRestartAnswersFromTheSnapshot() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        var served: Set<String> = []
        var answer = try daemon.query(Self.global, asCluster: "east-2")
        for _ in 0..<50 where answer?.answer.isEmpty ?? true {
            try await Task.sleep(for: .milliseconds(100))
            answer = try daemon.query(Self.global, asCluster: "east-2")
        }
        served.formUnion(answer?.answer.map { String($0.split(separator: "\t").last ?? "") } ?? [])
        // A burst of updates; every address the daemon answers with is recorded.
        let killAt = Int.random(in: 12...24)
        for octet in 100..<(100 + killAt) {
            try Self.setEast2Address(daemon, octet)
            for _ in 0..<40 {
                let reply = try daemon.query(Self.global, asCluster: "east-2")
                let addresses = reply?.answer.map { String($0.split(separator: "\t").last ?? "") } ?? []
                served.formUnion(addresses)
                if addresses.contains("203.0.113.\(octet)") { break }
                try await Task.sleep(for: .milliseconds(25))
            }
        }
        // The table serial is in the SOA of negative answers of the federation zone.
        let serialBefore = try #require(try daemon.query("nope.example.com", .a)?.authority.first)
        daemon.kill(SIGKILL)
        daemon.process.waitUntilExit()
        #expect(served.count > 5, "the burst was seen: \(served)")

        let started = ContinuousClock.now
        try daemon.restart()
        var first: Message? = nil
        while first == nil, ContinuousClock.now - started < .seconds(30) {
            first = try daemon.query(Self.global, asCluster: "east-2", timeout: .milliseconds(100))
        }
        let elapsed = ContinuousClock.now - started
        let reply = try #require(first)
        let addresses = reply.answer.map { String($0.split(separator: "\t").last ?? "") }
        #expect(!addresses.isEmpty)
        #expect(addresses.allSatisfy { served.contains($0) }, "answered \(addresses), served before: \(served)")
        // The first answer comes from the snapshot or from the members (whichever won the race); either way within
        // about a second of the spawn on an idle machine. Generous bound for a loaded CI box; the number is logged.
        print("first answer \(elapsed) after the restart")
        #expect(elapsed < .seconds(5))
        #expect(await daemon.stderr.wait(for: "state loaded", timeout: .seconds(10)), "\(daemon.stderr.all)")
        // Answers in the next half second are all addresses served before the kill (no torn state).
        let until = ContinuousClock.now + .milliseconds(500)
        while ContinuousClock.now < until {
            let more =
                try daemon.query(Self.global, asCluster: "east-2")?.answer
                .map { String($0.split(separator: "\t").last ?? "") } ?? []
            #expect(more.allSatisfy { served.contains($0) }, "\(more)")
        }
        // The SOA serial of the federation zone did not go back.
        let serialAfter = try #require(try daemon.query("nope.example.com", .a)?.authority.first)
        let before = UInt32(serialBefore.split(whereSeparator: { $0 == "\t" || $0 == " " })[6]) ?? 0
        let after = UInt32(serialAfter.split(whereSeparator: { $0 == "\t" || $0 == " " })[6]) ?? 0
        #expect(after > before, "\(serialBefore) → \(serialAfter)")
        #expect(await daemon.stop() == 0)
    }

    @Test(.timeLimit(.minutes(2)))
    func aTruncatedStateFileIsRejectedCleanly() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        let statePath = daemon.dir.path + "/state/records.state"
        var waited = 0
        while !FileManager.default.fileExists(atPath: statePath), waited < 100 {
            try await Task.sleep(for: .milliseconds(100))
            waited += 1
        }
        #expect(await daemon.stop() == 0)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: statePath))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: statePath))

        try daemon.restart()
        #expect(await daemon.waitUntilServing(), "\(daemon.stderr.all)")
        #expect(daemon.stderr.all.contains("state file ignored; starting cold"))
        #expect(daemon.stderr.all.contains("truncated"))
        var reply = try daemon.query(Self.global)
        for _ in 0..<50 where reply?.answer.isEmpty ?? true {
            try await Task.sleep(for: .milliseconds(100))
            reply = try daemon.query(Self.global)
        }
        #expect(reply?.answer.isEmpty == false, "the members fill the records in again")
        #expect(await daemon.stop() == 0)
    }
}
