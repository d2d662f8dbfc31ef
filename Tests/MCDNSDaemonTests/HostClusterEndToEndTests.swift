import DNSTestSupport
import DNSWire
import Foundation
import KubeAPISimulator
import MCDNSDaemon
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two real `mcdns serve` replicas with a `host:` block pointing at the API simulator (over HTTP, one token
/// each): one leads and writes ServiceDNSRecord status, both honour a user's ServiceDNSRecord spec in their
/// answers, and SIGTERM to the leader hands over within the lease duration.
@Suite(.serialized) struct HostClusterEndToEndTests {
    static func kubeconfig(_ dir: TemporaryDirectory, _ name: String, server: String, token: String) throws -> String {
        try dir.write(
            "\(name).kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters: [{ name: host, cluster: { server: "\(server)" } }]
            users: [{ name: \(name), user: { token: \(token) } }]
            contexts: [{ name: host, context: { cluster: host, user: \(name) } }]
            current-context: host
            """
        )
    }

    static func host(_ kubeconfig: String) -> String {
        """
        host:
          kubeconfig: \(kubeconfig)
          namespace: mcdns-system
          leaseDuration: 3s
          renewDeadline: 2s
          retryPeriod: 250ms
          statusResync: 1s
        """
    }

    static func metric(_ daemon: ServedDaemon, _ name: String) -> String? {
        guard let body = try? daemon.http("/metrics").body else { return nil }
        return body.split(separator: "\n").first { $0.hasPrefix(name + " ") }.map {
            String($0.dropFirst(name.count + 1))
        }
    }

    static func eventually(timeout: Duration, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return condition()
    }

    @Test(.timeLimit(.minutes(2)))
    func twoReplicasOneLeaderUserSpecInAnswersAndHandover() async throws {
        let sim = try await KubeAPISimulator.start(
            SimulatorConfiguration(tokens: ["token-1": "replica-1", "token-2": "replica-2", "token-admin": "admin"])
        )
        defer { Task { try? await sim.stop() } }
        // The user's record for shop/web: a 7 s TTL, a vanity name, and "store" instead of "web" in its names.
        try sim.create(
            #"{"apiVersion":"multicluster.mcdns.io/v1alpha1","kind":"ServiceDNSRecord","metadata":{"name":"web","namespace":"shop"},"spec":{"recordTTL":7,"dnsPrefix":"storefront","externalName":"store"}}"#
        )
        let configs = try TemporaryDirectory()
        defer { configs.remove() }
        let one = try await ServedDaemon.start(
            extra: Self.host(try Self.kubeconfig(configs, "replica-1", server: sim.baseURL, token: "token-1"))
        )
        defer { one.remove() }
        let two = try await ServedDaemon.start(
            extra: Self.host(try Self.kubeconfig(configs, "replica-2", server: sim.baseURL, token: "token-2"))
        )
        defer { two.remove() }

        // Status lands once: three clusters export web in the demo.
        func dnsCount() -> Int {
            guard let text = sim.get(.serviceDNSRecords, namespace: "shop", name: "web"),
                let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
            else { return 0 }
            return ((object["status"] as? [String: Any])?["dns"] as? [Any])?.count ?? 0
        }
        #expect(
            await Self.eventually(timeout: .seconds(20)) { dnsCount() == 3 },
            "\(one.stderr.all)\n\(two.stderr.all)"
        )
        // Every exported service of the demo got a record; only web's is the user's (no managed-by label).
        #expect(sim.objects(.serviceDNSRecords).count >= 2)

        let leaders = [one, two].filter { Self.metric($0, "mcdns_leader") == "1" }
        #expect(leaders.count == 1)
        let leader = try #require(leaders.first)
        let follower = leader === one ? two : one
        #expect(Self.metric(follower, "mcdns_leader") == "0")
        let leaderUser = leader === one ? "replica-1" : "replica-2"
        let writes = sim.requests().filter { $0.method == "PUT" && $0.path.hasSuffix("/status") && $0.status == 200 }
        #expect(!writes.isEmpty && writes.allSatisfy { $0.user == leaderUser })
        #expect(leader.stderr.all.contains("acquired the lease"))
        // /v1/clusters names this replica's part too.
        let clusters = try JSONDecoder().decode(
            AdminViews.Clusters.self,
            from: Data(try follower.http("/v1/clusters").body.utf8)
        )
        #expect(clusters.host?.leader == false)
        #expect(clusters.host?.recordsSynced == true)
        #expect(clusters.host?.statusWrites == 0)
        #expect(clusters.host?.identity.hasSuffix("_\(follower.process.pid)") == true)

        // Both replicas answer with the user's spec: the external name, its TTL, the vanity CNAME.
        for daemon in [one, two] {
            let answer = try #require(try daemon.query("store.shop.acme.svc.example.com"))
            #expect(answer.rcode == .noError)
            #expect(!answer.answer.isEmpty && answer.answer.allSatisfy { $0.contains("\t7\t") }, "\(answer.answer)")
            let vanity = try #require(try daemon.query("storefront.example.com"))
            #expect(
                vanity.answer.contains { $0.contains("\tCNAME\t") && $0.hasSuffix("store.shop.acme.svc.example.com.") },
                "\(vanity.answer)"
            )
            let old = try #require(try daemon.query("web.shop.acme.svc.example.com"))
            #expect(old.rcode == .nxDomain)
        }

        // SIGTERM to the leader: it releases the Lease and the follower leads within the lease duration.
        let stoppedAt = ContinuousClock.now
        let exit = await leader.stop()
        #expect(exit == 0, "\(leader.stderr.all.components(separatedBy: "Thread 1").first?.suffix(4000) ?? "")")
        #expect(await Self.eventually(timeout: .seconds(3)) { Self.metric(follower, "mcdns_leader") == "1" })
        #expect(ContinuousClock.now - stoppedAt < .seconds(4))
        #expect(follower.stderr.all.contains("acquired the lease"))
        let lease = sim.get(.leases, namespace: "mcdns-system", name: "mcdns-leader") ?? ""
        #expect(lease.contains(#""holderIdentity":""#))
    }

    @Test(.timeLimit(.minutes(2)))
    func aKilledLeaderIsReplacedOnlyAfterItsLeaseExpires() async throws {
        let sim = try await KubeAPISimulator.start(
            SimulatorConfiguration(tokens: ["token-1": "replica-1", "token-2": "replica-2"])
        )
        defer { Task { try? await sim.stop() } }
        let configs = try TemporaryDirectory()
        defer { configs.remove() }
        let one = try await ServedDaemon.start(
            extra: Self.host(try Self.kubeconfig(configs, "replica-1", server: sim.baseURL, token: "token-1"))
        )
        defer { one.remove() }
        let two = try await ServedDaemon.start(
            extra: Self.host(try Self.kubeconfig(configs, "replica-2", server: sim.baseURL, token: "token-2"))
        )
        defer { two.remove() }
        #expect(
            await Self.eventually(timeout: .seconds(20)) {
                [one, two].filter { Self.metric($0, "mcdns_leader") == "1" }.count == 1
            }
        )
        let leader = try #require([one, two].first { Self.metric($0, "mcdns_leader") == "1" })
        let follower = leader === one ? two : one

        // SIGKILL: no release. The follower must wait out the lease (3 s since it last saw it renewed), no less.
        let killedAt = ContinuousClock.now
        leader.kill(SIGKILL)
        #expect(await Self.eventually(timeout: .seconds(8)) { Self.metric(follower, "mcdns_leader") == "1" })
        let takeover = ContinuousClock.now - killedAt
        #expect(takeover >= .seconds(2), "took over after \(takeover), before the lease could have expired")
        #expect(takeover < .seconds(6), "took over after \(takeover)")
        let lease = sim.get(.leases, namespace: "mcdns-system", name: "mcdns-leader") ?? ""
        #expect(lease.contains(#""leaseTransitions":1"#), "\(lease)")
    }

    /// Issue 18: a host cluster without the services' namespace. The cause is warned once (not logged per round
    /// and record), shown in the host block of /v1/clusters and `mcdns clusters`, and counted in /metrics.
    @Test(.timeLimit(.minutes(2)))
    func aMissingNamespaceIsWarnedOnceAndShownWhereOperatorsLook() async throws {
        var configuration = SimulatorConfiguration(tokens: ["token-1": "replica-1"])
        configuration.namespaces = ["mcdns-system"]
        let sim = try await KubeAPISimulator.start(configuration)
        defer { Task { try? await sim.stop() } }
        let configs = try TemporaryDirectory()
        defer { configs.remove() }
        let daemon = try await ServedDaemon.start(
            extra: Self.host(try Self.kubeconfig(configs, "replica-1", server: sim.baseURL, token: "token-1"))
        )
        defer { daemon.remove() }
        let blocked = "mcdns_status_blocked_records{cause=\"namespaceMissing\"}"
        #expect(
            await Self.eventually(timeout: .seconds(20)) { Self.metric(daemon, blocked) == "4" },
            "\(daemon.stderr.all)"
        )
        #expect(Self.metric(daemon, "mcdns_status_blocked_records{cause=\"forbidden\"}") == "0")
        // Several more rounds (statusResync 1s) try the creates again: still one warning, no per-record lines.
        func creates() -> Int { sim.requests().filter { $0.method == "POST" && $0.status == 404 }.count }
        let before = creates()
        #expect(await Self.eventually(timeout: .seconds(10)) { creates() >= before + 8 })
        let log = daemon.stderr.all
        #expect(log.components(separatedBy: "cannot write ServiceDNSRecords in the host cluster").count == 2, "\(log)")
        #expect(log.contains("namespaces \"shop\" not found") && log.contains("kubectl create namespace"))
        #expect(!log.contains("could not create a ServiceDNSRecord"), "\(log)")

        let view = try JSONDecoder().decode(
            AdminViews.Clusters.self,
            from: Data(try daemon.http("/v1/clusters").body.utf8)
        )
        let problem = try #require(view.host?.problems.first)
        #expect(problem.cause.rawValue == "namespaceMissing" && problem.services == 4)
        let table = try OperateEndToEndTests.mcdns(["clusters", "--admin", daemon.admin])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("host: "), "\(table.stdout)")
        let line = "cannot write 4 record(s) (namespaceMissing, e.g. shop/api): namespaces \"shop\" not found"
        #expect(table.stdout.contains(line), "\(table.stdout)")
        #expect(await daemon.stop() == 0)
    }

    /// Issue 18: `host:` set and the ServiceDNSRecord CRD never installed. The cause is warned once, shown in the
    /// host block and `mcdns clusters`, counted in /metrics; once the CRD is applied it is said to be resolved and
    /// the records are created.
    @Test(.timeLimit(.minutes(2)))
    func aCRDMissingFromTheStartIsReportedAndClearsWhenInstalled() async throws {
        var configuration = SimulatorConfiguration(tokens: ["token-1": "replica-1"])
        configuration.uninstalledResources = [.serviceDNSRecords]
        let sim = try await KubeAPISimulator.start(configuration)
        defer { Task { try? await sim.stop() } }
        let configs = try TemporaryDirectory()
        defer { configs.remove() }
        let daemon = try await ServedDaemon.start(
            extra: Self.host(try Self.kubeconfig(configs, "replica-1", server: sim.baseURL, token: "token-1"))
        )
        defer { daemon.remove() }
        let blocked = "mcdns_status_blocked_records{cause=\"crdMissing\"}"
        #expect(
            await Self.eventually(timeout: .seconds(20)) { Self.metric(daemon, blocked) == "4" },
            "\(daemon.stderr.all)"
        )
        // More rounds (statusResync 1s) meet the same cause: still one warning.
        func refused() -> Int { sim.requests().filter { $0.method == "POST" && $0.status == 404 }.count }
        let before = refused()
        #expect(await Self.eventually(timeout: .seconds(10)) { refused() >= before + 8 })
        let log = daemon.stderr.all
        #expect(log.components(separatedBy: "cannot write ServiceDNSRecords in the host cluster").count == 2, "\(log)")
        #expect(log.contains("the server could not find the requested resource") && log.contains("deploy/crd"))

        let view = try JSONDecoder().decode(
            AdminViews.Clusters.self,
            from: Data(try daemon.http("/v1/clusters").body.utf8)
        )
        let problem = try #require(view.host?.problems.first)
        #expect(problem.cause.rawValue == "crdMissing" && problem.services == 4)
        let table = try OperateEndToEndTests.mcdns(["clusters", "--admin", daemon.admin])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("(crdMissing, e.g. "), "\(table.stdout)")

        sim.install(.serviceDNSRecords)
        #expect(
            await Self.eventually(timeout: .seconds(20)) { Self.metric(daemon, blocked) == "0" },
            "\(daemon.stderr.all)"
        )
        #expect(await Self.eventually(timeout: .seconds(10)) { sim.objects(.serviceDNSRecords).count == 4 })
        #expect(daemon.stderr.all.contains("ServiceDNSRecords are written again: crdMissing is resolved"))
        #expect(await daemon.stop() == 0)
    }
}
