import DNSTestSupport
import Foundation
import KubeAPISimulator
import Testing

/// Outages (pause/resume) and the `mcdns-apisim` executable.
@Suite struct SimulatorLifecycleTests {
    @Test func pauseRefusesConnectionsAndResumeKeepsTheState() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        let before = sim.currentResourceVersion
        let watch = try await TestConnection.connect(port: sim.port)
        watch.send(.GET, "/api/v1/services?watch=1&resourceVersion=\(before)")
        #expect(try await watch.head().status == 200)

        try await sim.pause()
        #expect(!sim.isListening)
        guard case .closed = await watch.nextWatchItem() else { Issue.record("the watch survived the outage"); return }
        await #expect(throws: (any Error).self) { _ = try await TestConnection.connect(port: sim.port) }
        // The cluster moves on while its API is unreachable.
        try sim.create(Fixtures.service("svc-b"))
        try sim.delete(.services, namespace: "demo", name: "svc-a")

        try await sim.resume()
        #expect(sim.isListening)
        let list = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services")
        #expect(Fixtures.items(list.json).map(Fixtures.name) == ["svc-b"])
        // A watch from the version before the outage replays what happened meanwhile.
        let again = try await TestConnection.connect(port: sim.port)
        defer { Task { await again.close() } }
        again.send(.GET, "/api/v1/services?watch=1&resourceVersion=\(before)")
        #expect(try await again.head().status == 200)
        var events: [String] = []
        for _ in 0..<2 {
            if case .event(let type, let object) = await again.nextWatchItem() { events.append("\(type) \(Fixtures.name(object))") }
        }
        #expect(events == ["ADDED svc-b", "DELETED svc-a"])
    }

    static let packageRoot: String = {
        var components = URL(fileURLWithPath: #filePath).pathComponents
        components.removeLast(3)
        return components.joined(separator: "/").replacingOccurrences(of: "//", with: "/")
    }()

    @Test func executableLoadsManifestsAndServes() async throws {
        let binary = "\(Self.packageRoot)/.build/debug/mcdns-apisim"
        try #require(FileManager.default.isExecutableFile(atPath: binary), "run `swift build` before `swift test`")
        let help = try ProcessRunner.run(binary, ["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("--load"))

        let directory = try TemporaryDirectory(prefix: "apisim-load")
        defer { directory.remove() }
        let manifests = try directory.subdirectory("manifests")
        try """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop, labels: {app: web}}
            spec:
              ports: [{port: 80}]
            ---
            apiVersion: discovery.k8s.io/v1
            kind: EndpointSlice
            metadata: {name: web-1, namespace: shop, labels: {kubernetes.io/service-name: web}}
            addressType: IPv4
            endpoints: [{addresses: [10.0.0.1], conditions: {ready: true}}]
            ports: [{port: 8080}]
            """.write(to: manifests.appendingPathComponent("a.yaml"), atomically: true, encoding: .utf8)
        try #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1","labels":{"topology.kubernetes.io/zone":"z1"}}}"#
            .write(to: manifests.appendingPathComponent("b.json"), atomically: true, encoding: .utf8)

        let process = try BackgroundProcess(
            binary, ["--port", "0", "--token", "T=alice", "--load", manifests.path], logPath: directory.path + "/apisim.log"
        )
        defer { process.stop(grace: .seconds(2)) }
        #expect(await Fixtures.eventually { process.log.contains("http://127.0.0.1:") }, "\(process.log)")
        let url = try #require(process.log.split(separator: "\n").first { $0.hasPrefix("http://127.0.0.1:") })
        let port = try #require(Int(url.split(separator: ":").last ?? ""))
        #expect(process.log.contains("created 3 objects"))

        let slices = try await TestConnection.request(
            port: port, .GET, "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", token: "T"
        )
        #expect(Fixtures.items(slices.json).map(Fixtures.name) == ["web-1"])
        let nodes = try await TestConnection.request(port: port, .GET, "/api/v1/nodes", token: "T")
        #expect(Fixtures.items(nodes.json).map(Fixtures.name) == ["node-1"])
        let refused = try await TestConnection.request(port: port, .GET, "/api/v1/nodes", token: "wrong")
        #expect(refused.status == 401)

        let bad = try ProcessRunner.run(binary, ["--tls-cert", "/nonexistent"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("--tls-cert and --tls-key go together"))
    }
}
