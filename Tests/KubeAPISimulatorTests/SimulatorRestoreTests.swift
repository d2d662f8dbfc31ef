import Foundation
import KubeAPISimulator
import Testing

/// A server whose history is not the one a client followed: an etcd restored from backup (lower revision, same
/// `kube-system` uid), another cluster (another uid), and a watch from a version the server has not reached, which
/// the apiserver answers 200 and then leaves silent (issue 23), while a list at such a version is still the 504
/// of transcript-era behaviour (`tooLargeResourceVersionIsThe504OfTheWatchCache`).
@Suite struct SimulatorRestoreTests {
    @Test func kubeSystemNamespaceCarriesTheConfiguredUID() async throws {
        let sim = try await KubeAPISimulator.start(
            SimulatorConfiguration(tokens: Fixtures.tokens, kubeSystemUID: "11111111-2222-3333-4444-555555555555")
        )
        defer { Task { try? await sim.stop() } }
        let namespace = try await TestConnection.request(port: sim.port, .GET, "/api/v1/namespaces/kube-system")
        #expect(namespace.status == 200)
        #expect(namespace.json["kind"] as? String == "Namespace")
        #expect((namespace.json["metadata"] as? [String: Any])?["uid"] as? String == "11111111-2222-3333-4444-555555555555")
        let anonymous = try await TestConnection.request(port: sim.port, .GET, "/api/v1/namespaces/kube-system", token: nil)
        #expect(anonymous.status == 403)
        let other = try await TestConnection.request(port: sim.port, .GET, "/api/v1/namespaces/nowhere")
        #expect(other.status == 404)
    }

    @Test func aWatchFromAVersionNotYetReachedIsAnswered200AndStaysSilentUntilTheServerPassesIt() async throws {
        let sim = try await Fixtures.start(bookmarkInterval: .milliseconds(100))
        defer { Task { try? await sim.stop() } }
        let now = UInt64(sim.currentResourceVersion)!
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        watch.send(.GET, "/api/v1/services?watch=1&allowWatchBookmarks=true&resourceVersion=\(now + 2)")
        #expect(try await watch.head().status == 200)
        // No event and no bookmark, although bookmarks are due every 100 ms.
        guard case .timeout = await watch.nextWatchItem(timeout: .milliseconds(800)) else {
            Issue.record("a watch from the future sent something")
            return
        }
        try sim.create(Fixtures.service("svc-a"))  // now + 1
        try sim.create(Fixtures.service("svc-b"))  // now + 2: still not after the requested version
        try sim.create(Fixtures.service("svc-c"))  // now + 3
        guard case .event("ADDED", let object) = await watch.nextWatchItem() else {
            Issue.record("no event once the server passed the version")
            return
        }
        #expect(Fixtures.name(object) == "svc-c")
    }

    @Test func restartRestoringASnapshotGoesBackInVersionAndKeepsOrChangesTheIdentity() async throws {
        let sim = try await KubeAPISimulator.start(
            SimulatorConfiguration(tokens: Fixtures.tokens, initialResourceVersion: 1000)
        )
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        #expect(sim.currentResourceVersion == "1001")
        let backup = sim.snapshot()
        try sim.create(Fixtures.service("svc-b"))
        let identity = sim.kubeSystemUID
        let watch = try await TestConnection.connect(port: sim.port)
        watch.send(.GET, "/api/v1/services?watch=1&resourceVersion=1002")
        #expect(try await watch.head().status == 200)

        try await sim.restart(restoring: backup)
        guard case .closed = await watch.nextWatchItem() else { Issue.record("the watch survived the restart"); return }
        #expect(sim.currentResourceVersion == "1001")
        #expect(sim.kubeSystemUID == identity)
        let list = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=1")
        #expect(Fixtures.items(list.json).map(Fixtures.name) == ["svc-a"])
        #expect((list.json["metadata"] as? [String: Any])?["resourceVersion"] as? String == "1001")
        // History before the snapshot is gone: as after a compaction.
        let old = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?resourceVersion=1000&resourceVersionMatch=Exact")
        #expect(old.status == 410)

        try await sim.restart(restoring: backup, kubeSystemUID: "another-cluster")
        let namespace = try await TestConnection.request(port: sim.port, .GET, "/api/v1/namespaces/kube-system")
        #expect((namespace.json["metadata"] as? [String: Any])?["uid"] as? String == "another-cluster")
    }
}
