import Foundation
import KubeAPISimulator
import Testing

/// The simulator against the recorded protocol, through a plain HTTP client.
@Suite struct SimulatorProtocolTests {
    @Test func discoveryDocumentsMatchTheRecordedShapes() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let version = try await TestConnection.request(port: sim.port, .GET, "/version")
        #expect(version.status == 200)
        #expect(version.json["gitVersion"] as? String == "v1.36.2")

        let api = try await TestConnection.request(port: sim.port, .GET, "/api")
        #expect(api.json["kind"] as? String == "APIVersions")
        let addresses = api.json["serverAddressByClientCIDRs"] as? [[String: Any]]
        #expect(addresses?.first?["serverAddress"] as? String == "127.0.0.1:\(sim.port)")

        let apis = try await TestConnection.request(port: sim.port, .GET, "/apis")
        let groups = (apis.json["groups"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(groups.contains("discovery.k8s.io") && groups.contains("multicluster.x-k8s.io"))

        let core = try await TestConnection.request(port: sim.port, .GET, "/api/v1")
        #expect(core.json["groupVersion"] as? String == "v1")
        #expect(core.json["apiVersion"] == nil)  // the core list has none (transcript 05)
        let coreNames = (core.json["resources"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String }
        #expect(coreNames.contains("services") && coreNames.contains("nodes"))

        let discovery = try await TestConnection.request(port: sim.port, .GET, "/apis/discovery.k8s.io/v1")
        let slices = (discovery.json["resources"] as? [[String: Any]])?.first
        #expect(slices?["name"] as? String == "endpointslices")
        #expect(slices?["storageVersionHash"] as? String == "qgS0xkrxYAI=")

        let mcs = try await TestConnection.request(port: sim.port, .GET, "/apis/multicluster.x-k8s.io/v1alpha1")
        #expect((mcs.json["resources"] as? [[String: Any]])?.first?["kind"] as? String == "ServiceExport")

        let aggregated = try await TestConnection.request(
            port: sim.port, .GET, "/apis",
            headers: [("Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json")]
        )
        #expect(aggregated.header("Content-Type") == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
        #expect(aggregated.json["kind"] as? String == "APIGroupDiscoveryList")
    }

    @Test func createGetUpdatePatchDeleteFollowTheRecordings() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let created = try await TestConnection.request(
            port: sim.port, .POST, "/api/v1/namespaces/demo/services", body: Fixtures.service("svc-d")
        )
        #expect(created.status == 201)
        let object = created.json
        let metadata = Fixtures.metadata(object)
        #expect(metadata["uid"] as? String != nil)
        #expect(metadata["creationTimestamp"] as? String != nil)
        #expect(metadata["generation"] == nil)  // Services carry none (transcript 21)
        let spec = object["spec"] as? [String: Any] ?? [:]
        #expect(spec["type"] as? String == "ClusterIP")
        #expect((spec["clusterIP"] as? String)?.hasPrefix("10.96.") == true)
        #expect(Fixtures.resourceVersion(object) == sim.currentResourceVersion)

        // PUT with the current version: 200 and a new version; with the old one again: 409 Conflict (55).
        var changed = object
        var labels = metadata["labels"] as? [String: String] ?? [:]
        labels["tier"] = "v2"
        var newMetadata = metadata
        newMetadata["labels"] = labels
        changed["metadata"] = newMetadata
        let updated = try await TestConnection.request(
            port: sim.port, .PUT, "/api/v1/namespaces/demo/services/svc-d", body: Fixtures.text(changed)
        )
        #expect(updated.status == 200)
        #expect(Int(Fixtures.resourceVersion(updated.json))! > Int(Fixtures.resourceVersion(object))!)
        let stale = try await TestConnection.request(
            port: sim.port, .PUT, "/api/v1/namespaces/demo/services/svc-d", body: Fixtures.text(changed)
        )
        #expect(stale.status == 409)
        #expect(stale.json["reason"] as? String == "Conflict")
        #expect(
            stale.json["message"] as? String
                == "Operation cannot be fulfilled on services \"svc-d\": the object has been modified; please apply your changes to the latest version and try again"
        )

        let patched = try await TestConnection.request(
            port: sim.port, .PATCH, "/api/v1/namespaces/demo/services/svc-d",
            headers: [("Content-Type", "application/merge-patch+json")],
            body: #"{"metadata":{"annotations":{"example.com/note":"patched"}}}"#
        )
        #expect(patched.status == 200)
        let annotations = Fixtures.metadata(patched.json)["annotations"] as? [String: String]
        #expect(annotations?["example.com/note"] == "patched")
        #expect((Fixtures.metadata(patched.json)["labels"] as? [String: String])?["tier"] == "v2")

        let duplicate = try await TestConnection.request(
            port: sim.port, .POST, "/api/v1/namespaces/demo/services", body: Fixtures.service("svc-d")
        )
        #expect(duplicate.status == 409)
        #expect(duplicate.json["reason"] as? String == "AlreadyExists")
        #expect(duplicate.json["message"] as? String == "services \"svc-d\" already exists")

        // A Service DELETE answers the object; an EndpointSlice DELETE a Status (24, 28).
        let deleted = try await TestConnection.request(port: sim.port, .DELETE, "/api/v1/namespaces/demo/services/svc-d")
        #expect(deleted.status == 200)
        #expect(deleted.json["kind"] as? String == "Service")
        try sim.create(Fixtures.endpointSlice("svc-c-1", service: "svc-c", addresses: ["10.3.0.1"]))
        let sliceDeleted = try await TestConnection.request(
            port: sim.port, .DELETE, "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices/svc-c-1"
        )
        #expect(sliceDeleted.json["kind"] as? String == "Status")
        #expect(sliceDeleted.json["status"] as? String == "Success")

        let missing = try await TestConnection.request(port: sim.port, .GET, "/api/v1/namespaces/demo/services/svc-d")
        #expect(missing.status == 404)
        #expect(missing.json["message"] as? String == "services \"svc-d\" not found")
        #expect((missing.json["details"] as? [String: Any])?["kind"] as? String == "services")
    }

    @Test func invalidEndpointSliceIsRejectedWith422() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let bad = Fixtures.endpointSlice("bad-1", service: "svc-a", addresses: ["10.9.9.9"])
            .replacingOccurrences(of: "\"IPv4\"", with: "\"IPv5\"")
        let answer = try await TestConnection.request(
            port: sim.port, .POST, "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices", body: bad
        )
        #expect(answer.status == 422)
        #expect(
            answer.json["message"] as? String
                == "EndpointSlice.discovery.k8s.io \"bad-1\" is invalid: addressType: Unsupported value: \"IPv5\": supported values: \"FQDN\", \"IPv4\", \"IPv6\""
        )
        #expect(throws: SimAPIError.self) { try sim.create(bad) }
        #expect(sim.objects(.endpointSlices).isEmpty)
    }

    @Test func swiftAPIKeepsOneGlobalRevisionAndRejectsStaleUpdates() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let first = Fixtures.json(try sim.create(Fixtures.service("svc-a")))
        let slice = Fixtures.json(try sim.create(Fixtures.endpointSlice("svc-a-1", service: "svc-a", addresses: ["10.1.0.1"])))
        #expect(Int(Fixtures.resourceVersion(slice))! == Int(Fixtures.resourceVersion(first))! + 1)
        #expect(Fixtures.metadata(slice)["generation"] as? Int == 1)
        #expect(sim.currentResourceVersion == Fixtures.resourceVersion(slice))

        let error = #expect(throws: SimAPIError.self) { try sim.create(Fixtures.service("svc-a")) }
        #expect(error?.code == 409 && error?.reason == "AlreadyExists")

        var changed = slice
        changed["endpoints"] = [["addresses": ["10.1.0.9"], "conditions": ["ready": false]]]
        let updated = Fixtures.json(try sim.update(Fixtures.text(changed)))
        #expect(Fixtures.metadata(updated)["generation"] as? Int == 2)
        let conflict = #expect(throws: SimAPIError.self) { try sim.update(Fixtures.text(changed)) }
        #expect(conflict?.code == 409 && conflict?.reason == "Conflict")

        try sim.delete(.services, namespace: "demo", name: "svc-a")
        #expect(sim.objects(.services).isEmpty)
        let missing = #expect(throws: SimAPIError.self) { try sim.delete(.services, namespace: "demo", name: "svc-a") }
        #expect(missing?.code == 404)
    }

    @Test func paginationStaysConsistentUnderConcurrentWrites() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        for index in 0..<10 { try sim.create(Fixtures.service(String(format: "svc-%02d", index))) }
        let first = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=4")
        let firstMeta = Fixtures.metadata(first.json)
        let snapshot = firstMeta["resourceVersion"] as? String
        #expect(firstMeta["remainingItemCount"] as? Int == 6)
        var token = try #require(firstMeta["continue"] as? String)
        // The token is the apiserver's: base64url JSON with the snapshot revision and the next start key.
        var padded = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while padded.count % 4 != 0 { padded += "=" }
        let decoded = Fixtures.json(String(decoding: Data(base64Encoded: padded) ?? Data(), as: UTF8.self))
        #expect(decoded["v"] as? String == "meta.k8s.io/v1")
        #expect(decoded["start"] as? String == "/demo/svc-03\u{0}")

        // Writes between the pages: none of them may show up in the paginated list.
        try sim.delete(.services, namespace: "demo", name: "svc-07")
        try sim.create(Fixtures.service("svc-05a"))
        var names = Fixtures.items(first.json).map(Fixtures.name)
        while true {
            let page = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=4&continue=\(token)")
            #expect(page.status == 200)
            #expect(Fixtures.metadata(page.json)["resourceVersion"] as? String == snapshot)
            names += Fixtures.items(page.json).map(Fixtures.name)
            guard let next = Fixtures.metadata(page.json)["continue"] as? String else { break }
            token = next
        }
        #expect(names == (0..<10).map { String(format: "svc-%02d", $0) })
        // List items carry no kind/apiVersion (transcript 10).
        #expect(Fixtures.items(first.json).first?["kind"] == nil)

        // A fresh list sees the writes; resourceVersion=0 ignores the limit (transcript 14).
        let fresh = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?resourceVersion=0&limit=2")
        #expect(Fixtures.items(fresh.json).count == 10)
        #expect(Fixtures.metadata(fresh.json)["continue"] == nil)
        #expect(Fixtures.items(fresh.json).map(Fixtures.name).contains("svc-05a"))
        #expect(!Fixtures.items(fresh.json).map(Fixtures.name).contains("svc-07"))

        // Exact at the old snapshot still shows the old state.
        let exact = try await TestConnection.request(
            port: sim.port, .GET, "/api/v1/services?resourceVersion=\(snapshot!)&resourceVersionMatch=Exact"
        )
        #expect(Fixtures.items(exact.json).map(Fixtures.name) == (0..<10).map { String(format: "svc-%02d", $0) })
    }

    @Test func selectorsAndNamespacesFilterLists() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a", labels: ["tier": "v1"]))
        try sim.create(Fixtures.service("svc-b", labels: ["tier": "v2"]))
        try sim.create(Fixtures.service("svc-c", namespace: "other", labels: ["tier": "v1", "canary": "yes"]))
        func names(_ query: String, namespace: String? = nil) async throws -> [String] {
            let base = namespace.map { "/api/v1/namespaces/\($0)/services" } ?? "/api/v1/services"
            let answer = try await TestConnection.request(port: sim.port, .GET, base + query)
            #expect(answer.status == 200, "\(query): \(answer.body)")
            return Fixtures.items(answer.json).map(Fixtures.name)
        }
        #expect(try await names("", namespace: "demo") == ["svc-a", "svc-b"])
        #expect(try await names("?labelSelector=tier%3Dv1") == ["svc-a", "svc-c"])
        #expect(try await names("?labelSelector=tier!%3Dv1") == ["svc-b"])
        #expect(try await names("?labelSelector=tier+in+(v2,v3)") == ["svc-b"])
        #expect(try await names("?labelSelector=tier%20notin%20(v2)") == ["svc-a", "svc-c"])
        #expect(try await names("?labelSelector=canary") == ["svc-c"])
        #expect(try await names("?labelSelector=!canary,tier%3D%3Dv1") == ["svc-a"])
        #expect(try await names("?fieldSelector=metadata.name%3Dsvc-b") == ["svc-b"])
        #expect(try await names("?fieldSelector=metadata.namespace!%3Ddemo") == ["svc-c"])
        let bad = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?fieldSelector=spec.foo%3Dx")
        #expect(bad.status == 400)
    }

    @Test func watchReplaysFromAVersionThenStreamsLiveEvents() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        let start = sim.currentResourceVersion
        try sim.create(Fixtures.service("svc-b"))
        try sim.delete(.services, namespace: "demo", name: "svc-a")

        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        watch.send(.GET, "/api/v1/namespaces/demo/services?watch=1&resourceVersion=\(start)")
        let head = try await watch.head()
        #expect(head.status == 200)
        #expect(head.headers.contains { $0.0.lowercased() == "transfer-encoding" && $0.1 == "chunked" })
        guard case .event("ADDED", let added) = await watch.nextWatchItem() else { Issue.record("no ADDED"); return }
        #expect(Fixtures.name(added) == "svc-b")
        #expect(added["kind"] as? String == "Service")
        guard case .event("DELETED", let deleted) = await watch.nextWatchItem() else { Issue.record("no DELETED"); return }
        #expect(Fixtures.name(deleted) == "svc-a")
        #expect(Fixtures.resourceVersion(deleted) == sim.currentResourceVersion)

        try sim.create(Fixtures.service("svc-c"))
        guard case .event("ADDED", let live) = await watch.nextWatchItem() else { Issue.record("no live ADDED"); return }
        #expect(Fixtures.name(live) == "svc-c")
        // Another namespace is not this watch's business.
        try sim.create(Fixtures.service("svc-x", namespace: "other"))
        try sim.create(Fixtures.service("svc-d"))
        guard case .event("ADDED", let next) = await watch.nextWatchItem() else { Issue.record("no ADDED"); return }
        #expect(Fixtures.name(next) == "svc-d")
    }

    @Test func watchWithoutVersionSendsTheCurrentStateFirst() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        try sim.create(Fixtures.service("svc-b"))
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        watch.send(.GET, "/api/v1/services?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true")
        _ = try await watch.head()
        var names: [String] = []
        for _ in 0..<2 {
            if case .event("ADDED", let object) = await watch.nextWatchItem() { names.append(Fixtures.name(object)) }
        }
        #expect(names == ["svc-a", "svc-b"])
        guard case .event("BOOKMARK", let bookmark) = await watch.nextWatchItem() else { Issue.record("no bookmark"); return }
        let annotations = Fixtures.metadata(bookmark)["annotations"] as? [String: String]
        #expect(annotations?["k8s.io/initial-events-end"] == "true")
        #expect(Fixtures.resourceVersion(bookmark) == sim.currentResourceVersion)
    }

    @Test func bookmarksCarryOnlyTheVersionAndTimeoutEndsTheStream() async throws {
        let sim = try await Fixtures.start(bookmarkInterval: .milliseconds(300))
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        let version = sim.currentResourceVersion
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        let started = ContinuousClock.now
        watch.send(.GET, "/api/v1/namespaces/demo/services?watch=1&allowWatchBookmarks=true&resourceVersion=\(version)&timeoutSeconds=2")
        _ = try await watch.head()
        var bookmarks: [[String: Any]] = []
        var ending: TestConnection.WatchItem = .timeout
        loop: while true {
            let item = await watch.nextWatchItem(timeout: .seconds(10))
            switch item {
            case .event("BOOKMARK", let object): bookmarks.append(object)
            case .event(let type, _): Issue.record("unexpected \(type)")
            default:
                ending = item
                break loop
            }
        }
        guard case .end = ending else { Issue.record("the stream did not end normally: \(ending)"); return }
        #expect(ContinuousClock.now - started >= .milliseconds(1900))
        #expect(bookmarks.count >= 2)
        let bookmark = try #require(bookmarks.first)
        // Service bookmarks: only metadata.resourceVersion set, Go's zero values elsewhere (transcript 20).
        #expect(Fixtures.metadata(bookmark).count == 1)
        #expect(Fixtures.resourceVersion(bookmark) == version)
        #expect(bookmark["spec"] as? [String: Any] != nil)

        // The connection stays usable after the normal end (keep-alive), like the apiserver's.
        watch.send(.GET, "/api/v1/namespaces/demo/services")
        let list = try await watch.response()
        #expect(Fixtures.items(list.json).count == 1)
    }

    @Test func compactionAnswers410OnListWatchAndContinue() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        for name in ["svc-a", "svc-b", "svc-c"] { try sim.create(Fixtures.service(name)) }
        let old = sim.currentResourceVersion
        let page = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=1")
        let token = try #require(Fixtures.metadata(page.json)["continue"] as? String)
        try sim.create(Fixtures.service("svc-d"))
        sim.compact()

        let list = try await TestConnection.request(
            port: sim.port, .GET, "/api/v1/services?resourceVersion=\(old)&resourceVersionMatch=Exact"
        )
        #expect(list.status == 410)
        #expect(list.json["reason"] as? String == "Expired")
        #expect(list.json["message"] as? String == "The resourceVersion for the provided list is too old.")

        let continued = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=1&continue=\(token)")
        #expect(continued.status == 410)
        #expect((continued.json["message"] as? String)?.hasPrefix("The provided continue parameter is too old") == true)
        let fresh = try #require(Fixtures.metadata(continued.json)["continue"] as? String)
        // The fresh token continues inconsistently from the current state.
        let rest = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=10&continue=\(fresh)")
        #expect(rest.status == 200)
        #expect(Fixtures.items(rest.json).map(Fixtures.name) == ["svc-b", "svc-c", "svc-d"])

        // A watch from the old version: 200, one ERROR event with 410 Expired, then the end (transcript 44).
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        watch.send(.GET, "/api/v1/namespaces/demo/services?watch=1&resourceVersion=\(old)")
        #expect(try await watch.head().status == 200)
        guard case .event("ERROR", let status) = await watch.nextWatchItem() else { Issue.record("no ERROR"); return }
        #expect(status["code"] as? Int == 410)
        #expect(status["reason"] as? String == "Expired")
        #expect((status["message"] as? String)?.hasPrefix("too old resource version: \(old) (") == true)
        guard case .end = await watch.nextWatchItem() else { Issue.record("stream did not end"); return }

        // From the current version all is well.
        watch.send(.GET, "/api/v1/namespaces/demo/services?watch=1&resourceVersion=\(sim.currentResourceVersion)&timeoutSeconds=1")
        #expect(try await watch.head().status == 200)
        guard case .end = await watch.nextWatchItem() else { Issue.record("expected a quiet stream that ends"); return }
    }

    @Test func authenticationAndAuthorizationAnswerLikeTheApiserver() async throws {
        let sim = try await Fixtures.start(allowedUsers: [.services: ["admin"]])
        defer { Task { try? await sim.stop() } }
        let bad = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services", token: "not-a-valid-token")
        #expect(bad.status == 401)
        #expect(bad.body == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#)

        let limited = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services", token: "limited-token")
        #expect(limited.status == 403)
        #expect(limited.body == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"services is forbidden: User \"limited\" cannot list resource \"services\" in API group \"\" at the cluster scope","reason":"Forbidden","details":{"kind":"services"},"code":403}"#)
        // Discovery stays open to an authenticated user (transcript 53); other resources too.
        let discovery = try await TestConnection.request(port: sim.port, .GET, "/apis/discovery.k8s.io/v1", token: "limited-token")
        #expect(discovery.status == 200)

        let anonymous = try await TestConnection.request(
            port: sim.port, .GET, "/apis/discovery.k8s.io/v1/namespaces/demo/endpointslices", token: nil
        )
        #expect(anonymous.status == 403)
        #expect(anonymous.json["message"] as? String == "endpointslices.discovery.k8s.io is forbidden: User \"system:anonymous\" cannot list resource \"endpointslices\" in API group \"discovery.k8s.io\" in the namespace \"demo\"")
        let records = sim.requests()
        #expect(records.map(\.user) == [nil, "limited", "limited", "system:anonymous"])
        #expect(records.map(\.status) == [401, 403, 200, 403])

        let closed = try await Fixtures.start(anonymousAuth: false)
        defer { Task { try? await closed.stop() } }
        let refused = try await TestConnection.request(port: closed.port, .GET, "/api/v1/services", token: nil)
        #expect(refused.status == 401)
    }

    @Test func severalSimulatorsRunSideBySide() async throws {
        var sims: [KubeAPISimulator] = []
        for index in 0..<5 {
            let sim = try await Fixtures.start()
            try sim.create(Fixtures.service("svc-\(index)"))
            sims.append(sim)
        }
        #expect(Set(sims.map(\.port)).count == 5)
        for (index, sim) in sims.enumerated() {
            let list = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services")
            #expect(Fixtures.items(list.json).map(Fixtures.name) == ["svc-\(index)"])
        }
        for sim in sims { try await sim.stop() }
        // Stopped means refused.
        await #expect(throws: (any Error).self) { _ = try await TestConnection.connect(port: sims[0].port) }
    }
}
