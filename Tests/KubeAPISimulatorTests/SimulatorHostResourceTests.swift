import Foundation
import KubeAPISimulator
import Testing

/// What mcdns writes in its host cluster: ServiceDNSRecords (the CRD, with its status subresource) and Leases,
/// with 409 Conflict on stale resourceVersions.
@Suite struct SimulatorHostResourceTests {
    static let recordsPath = "/apis/multicluster.mcdns.io/v1alpha1/namespaces/demo/servicednsrecords"

    static func record(_ name: String, spec: [String: Any] = [:], status: [String: Any]? = nil) -> String {
        var object: [String: Any] = [
            "apiVersion": "multicluster.mcdns.io/v1alpha1", "kind": "ServiceDNSRecord",
            "metadata": ["name": name, "namespace": "demo"], "spec": spec,
        ]
        if let status { object["status"] = status }
        return Fixtures.text(object)
    }

    static func generation(_ object: [String: Any]) -> Int? { Fixtures.metadata(object)["generation"] as? Int }

    /// A CRD not installed: its paths answer as any path nothing serves, discovery leaves it out, until install.
    @Test func anUninstalledResourceIsNotFoundUntilInstalled() async throws {
        var configuration = SimulatorConfiguration(tokens: ["admin-token": "admin"])
        configuration.uninstalledResources = [.serviceDNSRecords]
        let sim = try await KubeAPISimulator.start(configuration)
        defer { Task { try? await sim.stop() } }
        let missing = try await TestConnection.request(port: sim.port, .GET, Self.recordsPath)
        #expect(missing.status == 404)
        #expect(missing.json["message"] as? String == "the server could not find the requested resource")
        let create = try await TestConnection.request(port: sim.port, .POST, Self.recordsPath, body: Self.record("a"))
        #expect(create.status == 404)
        let apis = try await TestConnection.request(port: sim.port, .GET, "/apis")
        let groups = (apis.json["groups"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(!groups.contains("multicluster.mcdns.io") && groups.contains("coordination.k8s.io"))

        sim.install(.serviceDNSRecords)
        let created = try await TestConnection.request(port: sim.port, .POST, Self.recordsPath, body: Self.record("a"))
        #expect(created.status == 201)
        let listed = try await TestConnection.request(port: sim.port, .GET, "/apis")
        #expect(
            (listed.json["groups"] as? [[String: Any]] ?? []).contains {
                $0["name"] as? String == "multicluster.mcdns.io"
            }
        )
    }

    @Test func discoveryListsTheRecordsWithTheirStatusSubresource() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let apis = try await TestConnection.request(port: sim.port, .GET, "/apis")
        let groups = (apis.json["groups"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(groups.contains("multicluster.mcdns.io") && groups.contains("coordination.k8s.io"))

        let list = try await TestConnection.request(port: sim.port, .GET, "/apis/multicluster.mcdns.io/v1alpha1")
        let resources = list.json["resources"] as? [[String: Any]] ?? []
        #expect(resources.compactMap { $0["name"] as? String } == ["servicednsrecords", "servicednsrecords/status"])
        #expect(resources.first?["namespaced"] as? Bool == true)
        #expect(resources.first?["shortNames"] as? [String] == ["sdr"])
        #expect(resources.first?["kind"] as? String == "ServiceDNSRecord")

        let aggregated = try await TestConnection.request(
            port: sim.port,
            .GET,
            "/apis",
            headers: [("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")]
        )
        let items = aggregated.json["items"] as? [[String: Any]] ?? []
        let group = items.first { ($0["metadata"] as? [String: Any])?["name"] as? String == "multicluster.mcdns.io" }
        let version = (group?["versions"] as? [[String: Any]])?.first
        let entry = (version?["resources"] as? [[String: Any]])?.first
        #expect(entry?["resource"] as? String == "servicednsrecords")
        #expect((entry?["subresources"] as? [[String: Any]])?.first?["subresource"] as? String == "status")
    }

    @Test func statusSubresourceSeparatesStatusFromSpecAndGenerationCountsSpecChanges() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        // A create drops status (only /status writes it) and starts the generation at 1.
        let created = try await TestConnection.request(
            port: sim.port,
            .POST,
            Self.recordsPath,
            body: Self.record("web", spec: ["recordTTL": 10], status: ["headless": true])
        )
        #expect(created.status == 201)
        #expect(created.json["status"] == nil)
        #expect(Self.generation(created.json) == 1)
        #expect(created.json["kind"] as? String == "ServiceDNSRecord")

        // PUT /status changes only status: the spec and labels in the body are ignored, the generation stays.
        var body = created.json
        body["spec"] = ["recordTTL": 99]
        var metadata = Fixtures.metadata(body)
        metadata["labels"] = ["sneaky": "yes"]
        body["metadata"] = metadata
        body["status"] = ["observedGeneration": 1, "headless": false]
        let status = try await TestConnection.request(
            port: sim.port,
            .PUT,
            Self.recordsPath + "/web/status",
            body: Fixtures.text(body)
        )
        #expect(status.status == 200)
        #expect((status.json["status"] as? [String: Any])?["observedGeneration"] as? Int == 1)
        #expect((status.json["spec"] as? [String: Any])?["recordTTL"] as? Int == 10)
        #expect(Fixtures.metadata(status.json)["labels"] == nil)
        #expect(Self.generation(status.json) == 1)
        #expect(Int(Fixtures.resourceVersion(status.json))! > Int(Fixtures.resourceVersion(created.json))!)

        // A PUT of the main resource ignores status; a spec change bumps the generation, a label change does not.
        var main = status.json
        main["status"] = ["headless": true]
        var labelled = Fixtures.metadata(main)
        labelled["labels"] = ["team": "a"]
        main["metadata"] = labelled
        let relabelled = try await TestConnection.request(
            port: sim.port,
            .PUT,
            Self.recordsPath + "/web",
            body: Fixtures.text(main)
        )
        #expect(relabelled.status == 200)
        #expect(Self.generation(relabelled.json) == 1)
        #expect((relabelled.json["status"] as? [String: Any])?["headless"] as? Bool == false)
        var respec = relabelled.json
        respec["spec"] = ["recordTTL": 20, "dnsPrefix": "www"]
        let respecced = try await TestConnection.request(
            port: sim.port,
            .PUT,
            Self.recordsPath + "/web",
            body: Fixtures.text(respec)
        )
        #expect(Self.generation(respecced.json) == 2)
        #expect((respecced.json["status"] as? [String: Any])?["observedGeneration"] as? Int == 1)

        // GET of /status answers the whole object; an unchanged status PUT is a no-op that keeps the version.
        let got = try await TestConnection.request(port: sim.port, .GET, Self.recordsPath + "/web/status")
        #expect(Fixtures.resourceVersion(got.json) == Fixtures.resourceVersion(respecced.json))
        let same = try await TestConnection.request(
            port: sim.port,
            .PUT,
            Self.recordsPath + "/web/status",
            body: Fixtures.text(got.json)
        )
        #expect(Fixtures.resourceVersion(same.json) == Fixtures.resourceVersion(respecced.json))

        // Lists keep kind and apiVersion on items (a CRD is served unstructured); DELETE answers the object.
        let listed = try await TestConnection.request(
            port: sim.port,
            .GET,
            "/apis/multicluster.mcdns.io/v1alpha1/servicednsrecords"
        )
        let items = listed.json["items"] as? [[String: Any]] ?? []
        #expect(items.count == 1 && items.first?["kind"] as? String == "ServiceDNSRecord")
        let deleted = try await TestConnection.request(port: sim.port, .DELETE, Self.recordsPath + "/web")
        #expect(deleted.json["kind"] as? String == "ServiceDNSRecord")
        #expect(sim.get(.serviceDNSRecords, namespace: "demo", name: "web") == nil)
    }

    @Test func staleResourceVersionsConflictOnEveryWritePath() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let record = Fixtures.json(try sim.create(Self.record("web")))
        // Someone else writes first: the version the test holds is now stale.
        var other = record
        other["spec"] = ["recordTTL": 5]
        try sim.update(Fixtures.text(other))

        for path in [Self.recordsPath + "/web", Self.recordsPath + "/web/status"] {
            let stale = try await TestConnection.request(port: sim.port, .PUT, path, body: Fixtures.text(record))
            #expect(stale.status == 409, "\(path)")
            #expect(stale.json["kind"] as? String == "Status")
            #expect(stale.json["status"] as? String == "Failure")
            #expect(stale.json["reason"] as? String == "Conflict")
            #expect(
                stale.json["message"] as? String
                    == "Operation cannot be fulfilled on servicednsrecords.multicluster.mcdns.io \"web\": the object has been modified; please apply your changes to the latest version and try again"
            )
            let details = stale.json["details"] as? [String: Any]
            #expect(details?["group"] as? String == "multicluster.mcdns.io")
            #expect(details?["kind"] as? String == "servicednsrecords")
        }
        // A custom resource refuses an update without a resourceVersion.
        var unconditional = record
        var metadata = Fixtures.metadata(unconditional)
        metadata["resourceVersion"] = nil
        unconditional["metadata"] = metadata
        let refused = try await TestConnection.request(
            port: sim.port,
            .PUT,
            Self.recordsPath + "/web",
            body: Fixtures.text(unconditional)
        )
        #expect(refused.status == 422)
        #expect(refused.json["reason"] as? String == "Invalid")
        #expect(throws: (any Error).self) { try sim.updateStatus(Fixtures.text(record)) }
    }

    @Test func leasesAreCreatedReadAndUpdatedWithConflicts() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let path = "/apis/coordination.k8s.io/v1/namespaces/mcdns-system/leases"
        let lease: [String: Any] = [
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": ["name": "mcdns-leader", "namespace": "mcdns-system"],
            "spec": [
                "holderIdentity": "a", "leaseDurationSeconds": 15, "acquireTime": "2026-11-27T10:00:00.000000Z",
                "renewTime": "2026-11-27T10:00:00.000000Z", "leaseTransitions": 0,
            ],
        ]
        let created = try await TestConnection.request(port: sim.port, .POST, path, body: Fixtures.text(lease))
        #expect(created.status == 201)
        let again = try await TestConnection.request(port: sim.port, .POST, path, body: Fixtures.text(lease))
        #expect(again.status == 409)
        #expect(again.json["reason"] as? String == "AlreadyExists")

        let got = try await TestConnection.request(port: sim.port, .GET, path + "/mcdns-leader")
        #expect(got.status == 200)
        #expect((got.json["spec"] as? [String: Any])?["holderIdentity"] as? String == "a")

        var renewed = got.json
        var spec = renewed["spec"] as? [String: Any] ?? [:]
        spec["renewTime"] = "2026-11-27T10:00:05.000000Z"
        renewed["spec"] = spec
        let first = try await TestConnection.request(
            port: sim.port,
            .PUT,
            path + "/mcdns-leader",
            body: Fixtures.text(renewed)
        )
        #expect(first.status == 200)
        // The second writer holding the same (now stale) version loses: exactly what leader election relies on.
        spec["holderIdentity"] = "b"
        renewed["spec"] = spec
        let second = try await TestConnection.request(
            port: sim.port,
            .PUT,
            path + "/mcdns-leader",
            body: Fixtures.text(renewed)
        )
        #expect(second.status == 409)
        #expect(second.json["reason"] as? String == "Conflict")
        #expect(
            second.json["message"] as? String
                == "Operation cannot be fulfilled on leases.coordination.k8s.io \"mcdns-leader\": the object has been modified; please apply your changes to the latest version and try again"
        )
        let stored = Fixtures.json(sim.get(.leases, namespace: "mcdns-system", name: "mcdns-leader") ?? "")
        #expect((stored["spec"] as? [String: Any])?["holderIdentity"] as? String == "a")
        // Leases have no status subresource.
        let noStatus = try await TestConnection.request(port: sim.port, .GET, path + "/mcdns-leader/status")
        #expect(noStatus.status == 404)
    }
}
