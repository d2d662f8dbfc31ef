import DNSTestSupport
import Foundation
import KubeAPISimulator
import Testing

/// Issue 5 end to end, as real processes: KubeAPISimulator ← `mcdns agent` (kubeconfig to the simulator) ← TLS
/// reverse tunnel ← `mcdns serve` (a `source: { tunnel: {} }` member) ← `dig`. Records appear and follow a scale;
/// killing the agent keeps the member's answers (stale, degraded TTL) within the grace period; a new agent resumes
/// the member's watches from their resourceVersion, so the simulator sees no second list of any kind.
@Suite(.serialized) struct TunnelMemberEndToEndTests {
    typealias Members = KubeMembersEndToEndTests
    /// Long enough that the agent's outage (kill, a change, restart) stays well inside it on a loaded machine.
    static let grace = 60
    let web = "web.shop.svc.clusterset.local"
    let db = "db.shop.svc.clusterset.local"

    /// `mcdns agent` for east-2 as a real process; its log goes to `directory`.
    static func startAgent(tunnelPort: UInt16, directory: TemporaryDirectory, tokenFile: String, caFile: String,
                           kubeconfig: String, generation: Int) throws -> BackgroundProcess {
        try BackgroundProcess(
            KnotDifferentialTests.mcdnsBinary,
            ["agent", "--host", "wss://127.0.0.1:\(tunnelPort)", "--cluster", "east-2", "--token-file", tokenFile,
             "--ca-file", caFile, "--kubeconfig", kubeconfig],
            logPath: "\(directory.path)/agent-\(generation).log"
        )
    }

    /// The number of lists the simulator has served, per kind the member reads.
    static func lists(_ sim: KubeAPISimulator) -> [String: Int] {
        let kinds: [(String, SimResource)] = [
            ("services", .services), ("endpointslices", .endpointSlices), ("serviceexports", .serviceExports),
            ("nodes", .nodes),
        ]
        return Dictionary(uniqueKeysWithValues: kinds.map { ($0.0, sim.fullListCount($0.1)) })
    }

    /// east-2 as `/v1/clusters` shows it: its conditions (type → status) and its tunnel block.
    static func member(adminPort: UInt16) throws -> (states: [String: String], tunnel: [String: Any]?) {
        let body = try ProcessRunner.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(adminPort)/v1/clusters"]).stdout
        let root = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let clusters = root?["clusters"] as? [[String: Any]] ?? []
        let east2 = clusters.first { $0["name"] as? String == "east-2" }
        var states: [String: String] = [:]
        for state in east2?["states"] as? [[String: Any]] ?? [] {
            if let type = state["type"] as? String { states[type] = state["status"] as? String }
        }
        return (states, east2?["tunnel"] as? [String: Any])
    }

    static func describeMember(adminPort: UInt16) -> Comment {
        let body = (try? ProcessRunner.run("/usr/bin/curl", ["-s", "http://127.0.0.1:\(adminPort)/v1/clusters"]))?.stdout
        return Comment(rawValue: "/v1/clusters: \(body ?? "unreachable")")
    }

    /// Polls `/v1/clusters` until `check` holds (the tunnel's view follows the agent within seconds).
    static func waitForMember(adminPort: UInt16, within limit: Duration = .seconds(30),
                              _ check: ([String: String], [String: Any]?) -> Bool) throws -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline {
            if let (states, tunnel) = try? member(adminPort: adminPort), check(states, tunnel) { return true }
            Thread.sleep(forTimeInterval: 0.2)
        }
        return false
    }

    /// A running host (`mcdns serve` with east-2 as a tunnel member) and east-2's API simulator; agents are
    /// started by the test, dialling `tunnelPort` or a proxy in front of it.
    struct Member {
        let certificates: TestCertificates
        let sim: KubeAPISimulator
        let tokenFile: String
        let kubeconfig: String
        let tunnelPort: UInt16
        let adminPort: UInt16
        let host: MCDNSProcess
        let dig: Dig
        let hostConfig: String

        init() async throws {
            certificates = try TestCertificates(clientClusters: [])
            sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(500)))
            let token = "east-2-tunnel-token"
            tokenFile = try certificates.directory.write("token", token + "\n")
            let digest = try ProcessRunner.run("/bin/sh", ["-c", "printf %s '\(token)' | sha256sum"]).stdout.prefix(64)
            kubeconfig = try certificates.directory.write("east-2.kubeconfig", """
                apiVersion: v1
                kind: Config
                current-context: east-2
                clusters:
                - { name: east-2, cluster: { server: "\(sim.baseURL)" } }
                contexts:
                - { name: east-2, context: { cluster: east-2 } }
                """)
            tunnelPort = try FreePort.loopback()
            adminPort = try FreePort.loopback()
            hostConfig = """
                federation: { name: acme, domain: example.com }
                clusterset: { domain: clusterset.local }
                ttl: { record: 30, degraded: 5, negative: 5 }
                staleGracePeriod: \(TunnelMemberEndToEndTests.grace)s
                tunnel:
                  listen: "127.0.0.1:\(tunnelPort)"
                  tls: { cert: "\(certificates.hostCert)", key: "\(certificates.hostKey)" }
                  clusters:
                    east-2: { tokenSHA256: \(digest) }
                clusters:
                  - { name: east-2, region: us-east-1, zones: [us-east-1b], source: { tunnel: {} } }
                """
            host = try MCDNSProcess.start(binary: KnotDifferentialTests.mcdnsBinary, zonesDir: Members.zones,
                                          adminPort: adminPort, extraConfig: hostConfig)
            dig = try Dig(port: host.port)
        }

        /// Another `mcdns serve` with the same configuration (the same tunnel port), as a restarted host.
        func startHost(adminPort: UInt16) throws -> MCDNSProcess {
            try MCDNSProcess.start(binary: KnotDifferentialTests.mcdnsBinary, zonesDir: Members.zones,
                                   adminPort: adminPort, extraConfig: hostConfig)
        }

        /// `mcdns agent` dialling `port` (the host's tunnel port unless given, e.g. a proxy's).
        func startAgent(_ generation: Int, port: UInt16? = nil) throws -> BackgroundProcess {
            try TunnelMemberEndToEndTests.startAgent(
                tunnelPort: port ?? tunnelPort, directory: certificates.directory, tokenFile: tokenFile,
                caFile: certificates.hostCA, kubeconfig: kubeconfig, generation: generation)
        }

        func stop() async {
            host.stop()
            try? await sim.stop()
            certificates.directory.remove()
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func tunnelMemberFollowsChangesAndResumesAfterAnAgentRestart() async throws {
        let member = try await Member()
        let (sim, host, dig, adminPort) = (member.sim, member.host, member.dig, member.adminPort)
        defer { host.stop() }
        func agentStart(_ generation: Int) throws -> BackgroundProcess { try member.startAgent(generation) }
        var agent = try agentStart(1)
        defer { agent.stop() }

        // Create: the member's objects reach dig through the tunnel.
        try Members.populate(sim, clusterIP: "10.96.5.10", subnet: "10.5.0", replicas: 1)
        #expect(try Members.waitFor(dig, web, within: .seconds(40)) { rdata, ttl in rdata == ["10.96.5.10"] && ttl == 30 },
                "host:\n\(host.log)\nagent:\n\(agent.log)")
        #expect(try Members.waitFor(dig, db) { rdata, _ in rdata == ["10.5.0.11"] })
        // The admin API shows the member connected through the tunnel, its watches synced, its records fresh.
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states == ["TunnelConnected": "True", "WatchesSynced": "True", "RecordsFresh": "True"]
                && tunnel?["connected"] as? Bool == true && tunnel?["authentication"] as? String == "token"
        }, Self.describeMember(adminPort: adminPort))
        let metrics = try ProcessRunner.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(adminPort)/metrics"]).stdout
        #expect(metrics.contains("mcdns_tunnel_connected{cluster=\"east-2\"} 1"))

        // Scale: the headless service's endpoints follow the slice.
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.11", "10.5.0.12", "10.5.0.13"]))
        #expect(try Members.waitFor(dig, db) { rdata, _ in rdata == ["10.5.0.11", "10.5.0.12", "10.5.0.13"] })
        let listsBefore = Self.lists(sim)
        let watchesBefore = sim.watchCount(.endpointSlices)
        #expect(listsBefore["services"] == 1 && listsBefore["endpointslices"] == 1, "\(listsBefore)")

        // The agent dies: the member's answers stay, stale (degraded TTL), well inside the grace period.
        let killed = ContinuousClock.now
        #expect(agent.signal(SIGKILL, waitingUpTo: .seconds(10)))
        #expect(try Members.waitFor(dig, web, within: .seconds(30)) { rdata, ttl in rdata == ["10.96.5.10"] && ttl == 5 },
                "host:\n\(host.log)")
        #expect(try Members.answer(dig, db).rdata == ["10.5.0.11", "10.5.0.12", "10.5.0.13"])
        #expect(ContinuousClock.now - killed < .seconds(Self.grace), "checked within the grace period")
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "False" && states["RecordsFresh"] == "False" && tunnel?["connected"] as? Bool == false
        }, Self.describeMember(adminPort: adminPort))

        // A change while no agent runs; a new agent process resumes the watches and delivers it.
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.11", "10.5.0.12"]))
        agent = try agentStart(2)
        #expect(try Members.waitFor(dig, db, within: .seconds(60)) { rdata, ttl in rdata == ["10.5.0.11", "10.5.0.12"] && ttl == 30 },
                "host:\n\(host.log)\nagent:\n\(agent.log)")
        #expect(try Members.waitFor(dig, web) { rdata, ttl in rdata == ["10.96.5.10"] && ttl == 30 })
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "True" && states["RecordsFresh"] == "True"
                && (tunnel?["sessionsAccepted"] as? Int ?? 0) >= 2
        }, Self.describeMember(adminPort: adminPort))

        // Resumed, not relisted: no kind was listed again, and the slices' watch was opened anew.
        #expect(Self.lists(sim) == listsBefore)
        #expect(sim.watchCount(.endpointSlices) > watchesBefore)

        // And the resumed watches keep following.
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.14"]))
        #expect(try Members.waitFor(dig, db) { rdata, _ in rdata == ["10.5.0.14"] })
        #expect(Self.lists(sim) == listsBefore)
        await member.stop()
    }

    /// Faults on the route between agent and host, through a TCP proxy: a cut with RST while the route stays
    /// down (the admin API shows the tunnel disconnected, answers stay, stale), then the route back (connected
    /// again, a change made meanwhile delivered, no relist); a slowed link (no reconnect, no relist); a black hole
    /// without FIN, noticed by the HTTP/2 PINGs within their default bound (10 s + 10 s), then resumed.
    @Test(.timeLimit(.minutes(3)))
    func tunnelMemberRidesOutCutsSlowLinksAndBlackHolesWithoutRelist() async throws {
        let member = try await Member()
        let (sim, host, dig, adminPort) = (member.sim, member.host, member.dig, member.adminPort)
        defer { host.stop() }
        let proxy = try await FaultProxy(targetPort: Int(member.tunnelPort))
        let agent = try member.startAgent(1, port: UInt16(proxy.port))
        defer { agent.stop() }
        try Members.populate(sim, clusterIP: "10.96.5.10", subnet: "10.5.0", replicas: 1)
        #expect(try Members.waitFor(dig, web, within: .seconds(40)) { rdata, ttl in rdata == ["10.96.5.10"] && ttl == 30 },
                "host:\n\(host.log)\nagent:\n\(agent.log)")
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "True" && states["RecordsFresh"] == "True" && tunnel?["sessionsAccepted"] as? Int == 1
        }, Self.describeMember(adminPort: adminPort))
        let listsBefore = Self.lists(sim)
        #expect(listsBefore.values.allSatisfy { $0 == 1 }, "\(listsBefore)")
        // `since` marks each transition of the tunnel block: it only moves forward.
        func since() -> Double { (try? Self.member(adminPort: adminPort).tunnel?["since"] as? Double) ?? 0 }
        let connectedSince = since()

        // Cut, and the route stays down: disconnected in /v1/clusters (with why), the answers stay (stale,
        // degraded TTL).
        proxy.refuseNewConnections(true)
        proxy.cutWithReset()
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "False" && tunnel?["connected"] as? Bool == false
                && tunnel?["lastError"] as? String == "connection closed"
        }, Self.describeMember(adminPort: adminPort))
        let disconnectedSince = since()
        #expect(disconnectedSince > connectedSince)
        #expect(try Members.waitFor(dig, web, within: .seconds(30)) { rdata, ttl in rdata == ["10.96.5.10"] && ttl == 5 },
                "host:\n\(host.log)")
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.11", "10.5.0.12"]))
        // The route is back: the agent redials by itself, connected again, the change arrives, fresh again.
        proxy.refuseNewConnections(false)
        #expect(try Members.waitFor(dig, db, within: .seconds(60)) { rdata, ttl in rdata == ["10.5.0.11", "10.5.0.12"] && ttl == 30 },
                "host:\n\(host.log)\nagent:\n\(agent.log)")
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "True" && states["RecordsFresh"] == "True" && tunnel?["connected"] as? Bool == true
                && tunnel?["sessionsAccepted"] as? Int == 2
        }, Self.describeMember(adminPort: adminPort))
        let reconnectedSince = since()
        #expect(reconnectedSince > disconnectedSince)
        #expect(Self.lists(sim) == listsBefore)

        // Slowed: 200 ms each way, 64 KiB/s. Changes keep arriving on the same session.
        proxy.slowDown(latency: .milliseconds(200), bytesPerSecond: 64 * 1024)
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.13"]))
        #expect(try Members.waitFor(dig, db, within: .seconds(30)) { rdata, _ in rdata == ["10.5.0.13"] })
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.13", "10.5.0.14"]))
        #expect(try Members.waitFor(dig, db, within: .seconds(30)) { rdata, _ in rdata == ["10.5.0.13", "10.5.0.14"] })
        proxy.restoreSpeed()
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "True" && tunnel?["sessionsAccepted"] as? Int == 2
        }, Self.describeMember(adminPort: adminPort))
        #expect(since() == reconnectedSince, "no transition on a slow link")
        #expect(Self.lists(sim) == listsBefore)

        // Black hole: bytes vanish, no FIN. The PINGs notice (default 10 s interval + 10 s timeout, on both ends),
        // the agent redials (new connections pass), the watches resume. Whether /v1/clusters shows the gap depends
        // on which end notices first (a new session replaces the old at once), so the new session is what counts.
        let holed = ContinuousClock.now
        proxy.blackHoleOpenConnections()
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.15"]))
        #expect(try Members.waitFor(dig, db, within: .seconds(60)) { rdata, ttl in rdata == ["10.5.0.15"] && ttl == 30 },
                "host:\n\(host.log)\nagent:\n\(agent.log)")
        #expect(ContinuousClock.now - holed < .seconds(60))
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "True" && tunnel?["sessionsAccepted"] as? Int == 3
        }, Self.describeMember(adminPort: adminPort))
        #expect(since() > reconnectedSince)
        #expect(Self.lists(sim) == listsBefore)
        await proxy.shutdown()
        await member.stop()
    }

    /// The host restarts (`mcdns serve` stopped, started again on the same tunnel port): the same agent process
    /// dials again by itself and the new host is served. A new host process lists each kind once (it has no
    /// resourceVersion to resume from); the agent adds no list of its own.
    @Test(.timeLimit(.minutes(3)))
    func agentRejoinsARestartedHostByItself() async throws {
        let member = try await Member()
        let (sim, host) = (member.sim, member.host)
        defer { host.stop() }
        let agent = try member.startAgent(1)
        defer { agent.stop() }
        try Members.populate(sim, clusterIP: "10.96.5.10", subnet: "10.5.0", replicas: 1)
        #expect(try Members.waitFor(member.dig, web, within: .seconds(40)) { rdata, ttl in rdata == ["10.96.5.10"] && ttl == 30 },
                "host:\n\(host.log)\nagent:\n\(agent.log)")
        let listsBefore = Self.lists(sim)
        #expect(listsBefore.values.allSatisfy { $0 == 1 }, "\(listsBefore)")

        host.stop()
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.21", "10.5.0.22"]))
        let adminPort = try FreePort.loopback()
        let restarted = try member.startHost(adminPort: adminPort)
        defer { restarted.stop() }
        let dig = try Dig(port: restarted.port)
        #expect(try Members.waitFor(dig, db, within: .seconds(60)) { rdata, ttl in rdata == ["10.5.0.21", "10.5.0.22"] && ttl == 30 },
                "host:\n\(restarted.log)\nagent:\n\(agent.log)")
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states == ["TunnelConnected": "True", "WatchesSynced": "True", "RecordsFresh": "True"]
                && tunnel?["connected"] as? Bool == true && tunnel?["sessionsAccepted"] as? Int == 1
        }, Self.describeMember(adminPort: adminPort))
        #expect(agent.isRunning, "the same agent process")
        #expect(agent.log.components(separatedBy: "tunnel connected to the host").count - 1 == 2, "\(agent.log)")
        #expect(Self.lists(sim) == listsBefore.mapValues { $0 + 1 }, "one list per kind by the new host only")
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.23"]))
        #expect(try Members.waitFor(dig, db) { rdata, _ in rdata == ["10.5.0.23"] })
        await member.stop()
    }

    /// A second agent process for the same cluster: the newest connection wins (sessionsAccepted 2, still one
    /// connected tunnel), the first one's session closes at once, the takeover is logged and counted
    /// (`mcdns_tunnel_takeovers_total`), and changes keep arriving without a relist.
    @Test(.timeLimit(.minutes(3)))
    func secondAgentForTheClusterTakesOverWithoutRelist() async throws {
        let member = try await Member()
        let (sim, host, dig, adminPort) = (member.sim, member.host, member.dig, member.adminPort)
        defer { host.stop() }
        let first = try member.startAgent(1)
        defer { first.stop() }
        try Members.populate(sim, clusterIP: "10.96.5.10", subnet: "10.5.0", replicas: 1)
        #expect(try Members.waitFor(dig, web, within: .seconds(40)) { rdata, ttl in rdata == ["10.96.5.10"] && ttl == 30 },
                "host:\n\(host.log)\nagent:\n\(first.log)")
        let listsBefore = Self.lists(sim)

        let second = try member.startAgent(2)
        defer { second.stop() }
        #expect(try Self.waitForMember(adminPort: adminPort) { states, tunnel in
            states["TunnelConnected"] == "True" && tunnel?["sessionsAccepted"] as? Int == 2
        }, Self.describeMember(adminPort: adminPort))
        #expect(host.log.contains("taken over: a new connection from"), "\(host.log)")
        let metrics = try ProcessRunner.run("/usr/bin/curl", ["-sf", "http://127.0.0.1:\(adminPort)/metrics"]).stdout
        #expect(metrics.split(separator: "\n").contains { $0.hasPrefix("mcdns_tunnel_takeovers_total{") && $0.hasSuffix(" 1") },
                "\(metrics)")
        _ = try sim.update(Members.slice("db-1", "db", ["10.5.0.31", "10.5.0.32"]))
        #expect(try Members.waitFor(dig, db, within: .seconds(30)) { rdata, ttl in rdata == ["10.5.0.31", "10.5.0.32"] && ttl == 30 },
                "host:\n\(host.log)")
        #expect(first.isRunning && second.isRunning)
        #expect(Self.lists(sim) == listsBefore)
        await member.stop()
    }
}
