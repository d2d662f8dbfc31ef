import Foundation
import KubeAPISimulator
import Testing

/// Every `SimFault` as a client sees it on the wire.
@Suite struct SimulatorFaultTests {
    @Test func dropConnectionClosesWithoutAnswer() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        sim.inject(.dropConnection, matching: .list(.services))
        let connection = try await TestConnection.connect(port: sim.port)
        connection.send(.GET, "/api/v1/services")
        guard case .closed = await connection.next() else { Issue.record("expected the connection to close"); return }
        #expect(sim.requests().last?.status == 0)
        #expect(sim.requests().last?.fault == .dropConnection)
        // Only once: the next list is answered.
        let list = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services")
        #expect(list.status == 200)
        #expect(sim.listCount(.services) == 2)
    }

    @Test func stallNeverAnswersAndNeverCloses() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        sim.inject(.stall, matching: .path(prefix: "/api/v1"))
        let connection = try await TestConnection.connect(port: sim.port)
        defer { Task { await connection.close() } }
        connection.send(.GET, "/api/v1/services")
        #expect(await connection.next(timeout: .milliseconds(800)) == nil)
        #expect(connection.channel.isActive)
        // Other requests (here: discovery) are not affected by a consumed fault.
        let version = try await TestConnection.request(port: sim.port, .GET, "/version")
        #expect(version.status == 200)
    }

    @Test func stallAfterHeadersSendsTheHeadThenSilence() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        sim.inject(.stallAfterHeaders, matching: .watch(.services))
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        watch.send(.GET, "/api/v1/services?watch=1&allowWatchBookmarks=true&resourceVersion=\(sim.currentResourceVersion)")
        #expect(try await watch.head().status == 200)
        try sim.create(Fixtures.service("svc-b"))
        guard case .timeout = await watch.nextWatchItem(timeout: .milliseconds(1500)) else {
            Issue.record("a stalled watch must deliver nothing, bookmarks included")
            return
        }
        #expect(watch.channel.isActive)
        #expect(sim.watchCount(.services) == 1)
    }

    @Test func delayAnswersLater() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        sim.inject(.delay(.milliseconds(600)), matching: .list(.services))
        let started = ContinuousClock.now
        let list = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services")
        #expect(list.status == 200)
        #expect(ContinuousClock.now - started >= .milliseconds(550))
        // The request log tells when it came and when it was answered.
        let record = try #require(sim.requests().last)
        let answeredAt = try #require(record.answeredAt)
        #expect(answeredAt - record.receivedAt >= .milliseconds(550))
    }

    @Test func answerLateCarriesTheRequestOutAtOnceAndAnswersLater() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        sim.inject(.answerLate(.milliseconds(800)), matching: .path(prefix: "/api/v1/namespaces/demo/services/svc-a"))
        let started = ContinuousClock.now
        async let deleted = TestConnection.request(port: sim.port, .DELETE, "/api/v1/namespaces/demo/services/svc-a")
        // The delete has taken effect while its answer is still on the way.
        #expect(await Fixtures.eventually(timeout: .milliseconds(600)) { sim.get(.services, namespace: "demo", name: "svc-a") == nil })
        #expect(ContinuousClock.now - started < .milliseconds(700))
        #expect(try await deleted.status == 200)
        #expect(ContinuousClock.now - started >= .milliseconds(750))
        #expect(sim.requests().last?.fault == .answerLate(.milliseconds(800)))
    }

    @Test func statusFaultsCarryStatusBodiesAndRetryAfter() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        sim.inject(.status(code: 429, retryAfterSeconds: 3), matching: .list(.endpointSlices))
        sim.inject(.status(code: 500, retryAfterSeconds: nil), matching: .list(.endpointSlices), times: 2)
        let throttled = try await TestConnection.request(port: sim.port, .GET, "/apis/discovery.k8s.io/v1/endpointslices")
        #expect(throttled.status == 429)
        #expect(throttled.header("Retry-After") == "3")
        #expect(throttled.json["reason"] as? String == "TooManyRequests")
        #expect((throttled.json["details"] as? [String: Any])?["retryAfterSeconds"] as? Int == 3)
        for _ in 0..<2 {
            let failed = try await TestConnection.request(port: sim.port, .GET, "/apis/discovery.k8s.io/v1/endpointslices")
            #expect(failed.status == 500)
            #expect(failed.json["reason"] as? String == "InternalError")
            #expect(failed.header("Retry-After") == nil)
        }
        let fine = try await TestConnection.request(port: sim.port, .GET, "/apis/discovery.k8s.io/v1/endpointslices")
        #expect(fine.status == 200)
        #expect(sim.pendingFaults == 0)
        #expect(sim.requests().map(\.status) == [429, 500, 500, 200])
    }

    @Test func tooLargeResourceVersionIsThe504OfTheWatchCache() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        sim.inject(.tooLargeResourceVersion, matching: .watch(.services))
        let answer = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?watch=1&resourceVersion=5")
        #expect(answer.status == 504)
        #expect(answer.json["reason"] as? String == "Timeout")
        #expect((answer.json["message"] as? String)?.hasPrefix("Timeout: Too large resource version") == true)
        let causes = (answer.json["details"] as? [String: Any])?["causes"] as? [[String: Any]]
        #expect(causes?.first?["reason"] as? String == "ResourceVersionTooLarge")
        #expect(answer.header("Retry-After") == "1")
        // Without a fault, a version from the future gets the same answer.
        let future = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?resourceVersion=999999&resourceVersionMatch=NotOlderThan")
        #expect(future.status == 504)
    }

    @Test func watchErrorEventEndsTheStreamWithA410Status() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        sim.inject(.watchErrorEvent(code: 410), matching: .watch(.endpointSlices))
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        watch.send(.GET, "/apis/discovery.k8s.io/v1/endpointslices?watch=1&resourceVersion=\(sim.currentResourceVersion)")
        #expect(try await watch.head().status == 200)
        guard case .event("ERROR", let status) = await watch.nextWatchItem() else { Issue.record("no ERROR event"); return }
        #expect(status["kind"] as? String == "Status")
        #expect(status["code"] as? Int == 410)
        #expect(status["reason"] as? String == "Expired")
        guard case .end = await watch.nextWatchItem() else { Issue.record("the stream did not end"); return }
    }

    @Test func closeWatchImmediatelyEndsWithNoEvents() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        try sim.create(Fixtures.service("svc-a"))
        sim.inject(.closeWatchImmediately, matching: .watch(.services), times: 2)
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        for _ in 0..<2 {
            watch.send(.GET, "/api/v1/services?watch=1")
            #expect(try await watch.head().status == 200)
            guard case .end = await watch.nextWatchItem() else { Issue.record("expected an empty stream"); return }
        }
        #expect(sim.watchCount(.services) == 2)
    }

    @Test func expireContinueTokenHitsOnlyAContinuedList() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        for name in ["svc-a", "svc-b", "svc-c"] { try sim.create(Fixtures.service(name)) }
        sim.inject(.expireContinueToken, matching: .list(.services))
        // The first page has no token: the fault waits.
        let first = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=1")
        #expect(first.status == 200)
        let token = try #require(Fixtures.metadata(first.json)["continue"] as? String)
        let expired = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=1&continue=\(token)")
        #expect(expired.status == 410)
        #expect(expired.json["reason"] as? String == "Expired")
        #expect(Fixtures.metadata(expired.json)["continue"] as? String != nil)
        let again = try await TestConnection.request(port: sim.port, .GET, "/api/v1/services?limit=1&continue=\(token)")
        #expect(again.status == 200)
        #expect(Fixtures.items(again.json).map(Fixtures.name) == ["svc-b"])
    }

    @Test func closeWatchesEndsEveryOpenStreamNormally() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        var watches: [TestConnection] = []
        for path in ["/api/v1/services?watch=1", "/apis/discovery.k8s.io/v1/endpointslices?watch=1"] {
            let watch = try await TestConnection.connect(port: sim.port)
            watch.send(.GET, path)
            #expect(try await watch.head().status == 200)
            watches.append(watch)
        }
        #expect(await Fixtures.eventually { sim.openWatchCount == 2 })
        sim.closeWatches()
        for watch in watches {
            guard case .end = await watch.nextWatchItem() else { Issue.record("a watch did not end normally"); return }
            await watch.close()
        }
        #expect(sim.openWatchCount == 0)
    }

    @Test func stopEndsWatchesAbruptly() async throws {
        let sim = try await Fixtures.start()
        let watch = try await TestConnection.connect(port: sim.port)
        watch.send(.GET, "/api/v1/services?watch=1")
        #expect(try await watch.head().status == 200)
        try await sim.stop()
        guard case .closed = await watch.nextWatchItem() else { Issue.record("expected the connection to drop"); return }
    }
}

/// Raw watch data for the client's framing tests.
@Suite struct SimulatorRawWatchDataTests {
    @Test func rawDataArrivesVerbatimAndInOrder() async throws {
        let sim = try await Fixtures.start()
        defer { Task { try? await sim.stop() } }
        let watch = try await TestConnection.connect(port: sim.port)
        defer { Task { await watch.close() } }
        watch.send(.GET, "/api/v1/services?watch=1&resourceVersion=\(sim.currentResourceVersion)")
        #expect(try await watch.head().status == 200)
        #expect(await Fixtures.eventually { sim.openWatchCount == 1 })
        try sim.create(Fixtures.service("svc-a"))
        // One event split over two chunks, then two events in one chunk (one of an unknown type).
        #expect(sim.emitRawWatchData(#"{"type":"ADDED","object":{"kind":"Service","apiVersion":"v1","met"#, to: .services) == 1)
        sim.emitRawWatchData(#"adata":{"name":"split"}}}"# + "\n", to: .services)
        sim.emitRawWatchData(#"{"type":"SURPRISE","object":{}}"# + "\n" + #"{"type":"DELETED","object":{"metadata":{"name":"x"}}}"# + "\n", to: .services)
        #expect(sim.emitRawWatchData("ignored", to: .nodes) == 0)

        var seen: [String] = []
        for _ in 0..<4 {
            if case .event(let type, let object) = await watch.nextWatchItem() { seen.append("\(type) \(Fixtures.name(object))") }
        }
        #expect(seen == ["ADDED svc-a", "ADDED split", "SURPRISE ", "DELETED x"])
    }
}
