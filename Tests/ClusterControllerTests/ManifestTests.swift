import ClusterController
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeClient
import MCDNSModel
import Synchronization
import Testing

/// Collects a source's events for a test.
final class EventLog: Sendable {
    private let storage = Mutex<[MemberEvent]>([])
    func append(_ event: MemberEvent) { storage.withLock { $0.append(event) } }
    var events: [MemberEvent] { storage.withLock { $0 } }
}

/// A temporary manifest directory, removed at the end of the test.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mcdns-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String) throws {
        // Write to a temporary name and rename, as editors and kubectl do, so a poll never reads half a file.
        let temporary = path + "/.\(name).tmp"
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path + "/" + name) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path + "/" + name])
        }
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + name)
    }
}

enum Manifests {
    static func service(_ name: String, ip: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
          namespace: shop
          annotations:
            mcdns.io/export: "true"
        spec:
          clusterIP: \(ip)
          ports:
            - name: http
              port: 80
        """
    }

    static func slice(_ name: String, service: String, addresses: [String]) -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: \(name)
          namespace: shop
          labels:
            kubernetes.io/service-name: \(service)
        addressType: IPv4
        endpoints:
        \(addresses.map { "  - addresses: [\"\($0)\"]" }.joined(separator: "\n"))
        """
    }
}

@Suite("Manifest parsing")
struct ManifestParserTests {
    @Test func multiDocumentFile() throws {
        let text = Manifests.service("web", ip: "10.0.0.1") + "\n---\n" + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1"])
            + "\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        let document = try ManifestParser.parse(text, file: "web.yaml")
        #expect(document.objects.map(\.ref) == [
            KubeObjectRef(kind: .service, namespace: "shop", name: "web"),
            KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: "web-a"),
        ])
        #expect(document.ignored.map(\.kind) == ["ConfigMap"])
        #expect(document.ignored.first?.line == 27)
    }

    @Test func yamlSyntaxErrorHasFileAndLine() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [web\n  namespace: shop\n"
        #expect {
            try ManifestParser.parse(text, file: "dir/broken.yaml")
        } throws: { error in
            guard let error = error as? ManifestError else { return false }
            #expect(error.file == "dir/broken.yaml")
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("dir/broken.yaml:\(error.line ?? 0): YAML syntax"))
            return true
        }
    }

    @Test func malformedObjectHasTheLineOfTheField() {
        let text = Manifests.service("ok", ip: "10.0.0.1") + "\n---\n" + """
            apiVersion: v1
            kind: Service
            metadata:
              name: web
              namespace: shop
            spec:
              ports:
                - name: http
                  port: eighty
            """
        #expect {
            try ManifestParser.parse(text, file: "web.yaml")
        } throws: { error in
            guard let error = error as? ManifestError else { return false }
            #expect(error.description == "web.yaml:22: Service shop/web: spec.ports[0].port: expected an integer, found string \"eighty\"")
            return true
        }
    }

    @Test func yamlTypesFollowKubernetes() throws {
        // Unquoted timestamps stay text for the RFC 3339 parser; quoted numbers are strings, so a quoted port fails.
        let good = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  creationTimestamp: 2024-03-01T10:00:00Z\n"
        let document = try ManifestParser.parse(good, file: "a.yaml")
        guard case .service(let service)? = document.objects.first else {
            Issue.record("no Service")
            return
        }
        #expect(service.metadata.creationTimestamp == F.date("2024-03-01T10:00:00Z"))
        #expect(throws: ManifestError.self) {
            try ManifestParser.parse("apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports: [{port: \"80\"}]\n",
                                     file: "b.yaml")
        }
    }

    @Test func demoMembersLoadCleanly() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/demo/members").path
        var services: [String: Set<String>] = [:]
        for member in ["east-1", "east-2", "west-1"] {
            let (objects, errors) = ManifestSource.check(directory: root + "/" + member)
            #expect(errors.isEmpty, "\(errors)")
            #expect(objects.contains { $0.ref.kind == .node })
            services[member] = Set(objects.filter { $0.ref.kind == .service }.map(\.ref.name))
        }
        #expect(services["east-1"] == ["web", "api", "db", "legacy", "cache"])
        #expect(services["east-2"] == ["web", "api"])
        #expect(services["west-1"] == ["web", "api", "db"])
    }
}

@Suite("Manifest source")
struct ManifestSourceTests {
    static let web = ServiceKey(namespace: "shop", name: "web")
    static let api = ServiceKey(namespace: "shop", name: "api")

    func harness(_ directory: String) throws -> ControllerHarness<ContinuousClock> {
        let configuration = ControllerConfiguration(
            members: [MemberConfiguration(name: "east-1", region: "us-east-1", zones: ["us-east-1a"],
                                          source: .manifests(path: directory))],
            coalescingWindow: .milliseconds(2))
        let source = ManifestSource(cluster: "east-1", directory: directory, pollInterval: .milliseconds(20),
                                    logger: F.logger)
        return try ControllerHarness(configuration: configuration, sources: [source], clock: ContinuousClock())
    }

    @Test func editAddDeleteAndBreakFiles() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
            + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1"]))
        let harness = try harness(directory.path)
        defer { harness.task.cancel() }

        let loaded = await harness.sink.wait { $0.records[Self.web]?.dns("east-1")?.readyEndpoints == 1 }
        #expect(loaded?.cluster("east-1")?.link == .synced)

        // Edit: a second endpoint.
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
            + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1", "10.1.0.2"]))
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
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
            + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.9"]))
        let fixed = await harness.sink.wait { $0.records[Self.web]?.dns("east-1")?.endpoints.map(\.address) == ["10.1.0.9"] }
        #expect(fixed != nil)
        await harness.stop()
    }

    @Test func fileSavedByDeleteAndRecreateIsNeverWithdrawn() async throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
            + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1"]))
        let harness = try harness(directory.path)
        defer { harness.task.cancel() }
        _ = await harness.sink.wait { $0.records[Self.web] != nil }

        // Some editors save by deleting the file and writing a new one.
        try directory.remove("web.yaml")
        try (Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
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
        let source = ManifestSource(cluster: "east-1", directory: directory.path, pollInterval: .milliseconds(10),
                                    logger: F.logger)
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
        #expect(first?.first.map { if case .upsert(let object) = $0 { object.ref.name == "web" } else { false } } == true)

        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1").replacingOccurrences(of: "port: 80", with: "port: [80"))
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
