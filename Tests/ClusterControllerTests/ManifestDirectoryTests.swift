@testable import ClusterController
import Foundation
import KubeClient
import Testing

/// The poller step by step, without timing: which poll emits what.
@Suite("Manifest directory polling")
struct ManifestDirectoryTests {
    static let webRef = KubeObjectRef(kind: .service, namespace: "shop", name: "web")

    func kinds(_ events: [MemberEvent]) -> [String] {
        events.map { event in
            switch event {
            case .upsert(let object): return "upsert \(object.ref)"
            case .delete(let ref): return "delete \(ref)"
            case .problem: return "problem"
            default: return "\(event)"
            }
        }
    }

    @Test func changesAreActedOnOnceTwoPollsAgree() throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        var poller = ManifestDirectory(root: directory.path)

        // The first poll reads everything at once.
        #expect(kinds(try poller.poll().events) == ["upsert Service shop/web"])
        #expect(try poller.poll().events.isEmpty)

        // Deleted and re-created between polls (an editor's save): the gap is never emitted as a delete.
        try directory.remove("web.yaml")
        #expect(try poller.poll().events.isEmpty)
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.2"))
        #expect(try poller.poll().events.isEmpty)
        #expect(kinds(try poller.poll().events) == ["upsert Service shop/web"])

        // A real delete: emitted on the second poll that sees it.
        try directory.remove("web.yaml")
        #expect(try poller.poll().events.isEmpty)
        #expect(kinds(try poller.poll().events) == ["delete Service shop/web"])
    }

    @Test func brokenVersionKeepsTheLastGoodObjectsAndIsReportedOnce() throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        var poller = ManifestDirectory(root: directory.path)
        _ = try poller.poll()

        try directory.write("web.yaml", "kind: [\n")
        #expect(try poller.poll().events.isEmpty)
        let reported = try poller.poll().events
        #expect(kinds(reported) == ["problem"])
        #expect(try poller.poll().events.isEmpty)
        #expect(poller.emitted[Self.webRef] != nil)
    }

    @Test func duplicateDefinitionsUseTheFirstFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.yaml", Manifests.service("web", ip: "10.0.0.1"))
        try directory.write("b.yaml", Manifests.service("web", ip: "10.0.0.2"))
        var poller = ManifestDirectory(root: directory.path)
        let events = try poller.poll().events
        #expect(kinds(events) == ["problem", "upsert Service shop/web"])
        guard case .service(let service)? = poller.emitted[Self.webRef] else {
            Issue.record("web not emitted")
            return
        }
        #expect(service.clusterIPs == ["10.0.0.1"])
    }

    @Test func missingDirectoryIsUnavailable() {
        var poller = ManifestDirectory(root: "/nonexistent/mcdns-test")
        #expect(throws: ManifestDirectory.Unavailable.notADirectory("/nonexistent/mcdns-test")) { try poller.poll() }
    }
}
