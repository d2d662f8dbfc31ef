import ClusterController
import Foundation
import MCDNSModel
import Testing

@Suite("Manifest source")
struct ManifestSourceTests {
    static let web = ServiceKey(namespace: "shop", name: "web")
    static let api = ServiceKey(namespace: "shop", name: "api")

    func harness(_ directory: String) throws -> ControllerHarness<ContinuousClock> {
        let configuration = ControllerConfiguration(
            members: [
                MemberConfiguration(
                    name: "east-1",
                    region: "us-east-1",
                    zones: ["us-east-1a"],
                    source: .manifests(path: directory)
                )
            ],
            coalescingWindow: .milliseconds(2)
        )
        let source = ManifestSource(
            cluster: "east-1",
            directory: directory,
            pollInterval: .milliseconds(20),
            logger: F.logger
        )
        return try ControllerHarness(configuration: configuration, sources: [source], clock: ContinuousClock())
    }

    @Test func editAddDeleteAndBreakFiles() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "web.yaml",
            Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
                + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1"])
        )
        let harness = try harness(directory.path)
        defer { harness.task.cancel() }

        let loaded = await harness.sink.wait { $0.records[Self.web]?.dns("east-1")?.readyEndpoints == 1 }
        #expect(loaded?.cluster("east-1")?.link == .synced)

        // Edit: a second endpoint.
        try directory.write(
            "web.yaml",
            Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
                + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1", "10.1.0.2"])
        )
        let edited = await harness.sink.wait { $0.records[Self.web]?.dns("east-1")?.readyEndpoints == 2 }
        #expect(edited?.records[Self.web]?.dns("east-1")?.endpoints.map(\.address) == ["10.1.0.1", "10.1.0.2"])
        #expect(edited?.batches.last?.upserted.map(\.key) == [Self.web])

        // Add a file.
        try directory.write("api.yaml", Manifests.service("api", ip: "10.0.0.2"))
        let added = await harness.sink.wait { $0.records[Self.api] != nil }
        #expect(added?.batches.last?.upserted.map(\.key) == [Self.api])

        // Delete it.
        try directory.remove("api.yaml")
        let deleted = await harness.sink.wait { $0.records[Self.api] == nil }
        #expect(deleted?.batches.last?.removed == [Self.api])

        // Break web.yaml: its last good content keeps serving. A later change elsewhere shows the source
        // has polled past the broken version.
        try directory.write("web.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: web\n")
        try directory.write("api.yaml", Manifests.service("api", ip: "10.0.0.3"))
        let broken = await harness.sink.wait { $0.records[Self.api]?.dns("east-1")?.clusterIPs == ["10.0.0.3"] }
        #expect(broken?.records[Self.web]?.dns("east-1")?.readyEndpoints == 2)

        // Fix it with different content: the new content is used.
        try directory.write(
            "web.yaml",
            Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
                + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.9"])
        )
        let fixed = await harness.sink.wait {
            $0.records[Self.web]?.dns("east-1")?.endpoints.map(\.address) == ["10.1.0.9"]
        }
        #expect(fixed != nil)
        await harness.stop()
    }

    @Test func fileSavedByDeleteAndRecreateIsNeverWithdrawn() async throws {
        let directory = try TemporaryDirectory()
        try directory.write(
            "web.yaml",
            Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
                + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1"])
        )
        let harness = try harness(directory.path)
        defer { harness.task.cancel() }
        _ = await harness.sink.wait { $0.records[Self.web] != nil }

        // Some editors save by deleting the file and writing a new one.
        try directory.remove("web.yaml")
        try
            (Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
            + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1", "10.1.0.2"]))
            .write(toFile: directory.path + "/web.yaml", atomically: false, encoding: .utf8)
        let saved = await harness.sink.wait { $0.records[Self.web]?.dns("east-1")?.readyEndpoints == 2 }
        #expect(saved != nil)
        #expect(saved?.batches.allSatisfy { $0.removed.isEmpty } == true)
        await harness.stop()
    }

    @Test func brokenFileIsReportedWithFileAndLine() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        let events = EventLog()
        let source = ManifestSource(
            cluster: "east-1",
            directory: directory.path,
            pollInterval: .milliseconds(10),
            logger: F.logger
        )
        let task = Task { try await source.run(events: MemberEventSink { event in events.append(event) }) }
        defer { task.cancel() }

        func wait(until condition: ([MemberEvent]) -> Bool) async -> [MemberEvent]? {
            let deadline = ContinuousClock.now.advanced(by: .seconds(10))
            while ContinuousClock.now < deadline {
                let snapshot = events.events
                if condition(snapshot) { return snapshot }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return nil
        }

        let first = await wait { $0.contains(.synced) }
        #expect(
            first?.first.map { if case .upsert(let object) = $0 { object.ref.name == "web" } else { false } } == true
        )

        try directory.write(
            "web.yaml",
            Manifests.service("web", ip: "10.0.0.1").replacingOccurrences(of: "port: 80", with: "port: [80")
        )
        let reported = await wait { $0.contains { if case .problem = $0 { true } else { false } } }
        let problem = reported?.compactMap { if case .problem(let text) = $0 { text } else { nil } }.first
        #expect(problem?.hasPrefix(directory.path + "/web.yaml:") == true)
        #expect(problem?.hasSuffix("keeping the last good content of this file") == true)
        // No delete was emitted for the broken file's objects.
        #expect(reported?.contains { if case .delete = $0 { true } else { false } } == false)

        // The directory disappearing is a lost link.
        try FileManager.default.removeItem(atPath: directory.path)
        let lost = await wait { $0.contains { if case .linkLost = $0 { true } else { false } } }
        #expect(lost != nil)
        task.cancel()
        _ = try? await task.value
    }
}
