import Foundation
import KubeAPISimulator
import KubeClient
import MetricsTestKit
import Testing

/// Tests 1–10 of the issue against `KubeAPISimulator` over HTTP: each ends with the reflector's store equal to
/// the server's objects, and counts list calls where that is the point.
@Suite("Reflector list and watch", .serialized)
struct ReflectorListWatchTests {
    @Test("1: a continue token that expires half-way gives one full list")
    func continueTokenExpires() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        for index in 0..<12 { try h.service("svc-\(index)") }
        h.sim.inject(.expireContinueToken, matching: .list(.services), times: 1)
        var configuration = SimHarness.quick
        configuration.pageSize = 5
        let run = h.run(.service, configuration)
        #expect(try await h.waitConsistent(run))
        await run.stop()
        let lists = h.sim.requests().filter { $0.isList && $0.resource == .services }
        // Page 1, page 2 answered 410, then one list without paging.
        #expect(lists.map(\.status) == [200, 410, 200], "\(lists)")
        #expect(lists.last?.queryValue("limit") == nil)
        #expect(lists.last?.queryValue("continue") == nil)
        #expect(run.statistics.lists == ["continueExpired": 1])
        #expect(run.objects.count == 12)
    }

    @Test("2: a relist after the first sync asks for at least the version already seen")
    func relistNeverMovesBack() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        let run = h.run(.service)
        #expect(try await h.waitConsistent(run))
        try h.service("b")
        #expect(try await h.waitConsistent(run))
        let seen = try #require(run.statistics.resourceVersion)
        h.sim.inject(.watchErrorEvent(code: 410), matching: .watch(.services), times: 1)
        h.sim.closeWatches()
        #expect(await run.wait { $0.lists["expired", default: 0] == 1 })
        #expect(try await h.waitConsistent(run))
        await run.stop()
        let lists = h.sim.requests().filter { $0.isList && $0.resource == .services }
        #expect(lists.count == 2)
        #expect(lists.first?.queryValue("resourceVersion") == nil, "the first list is a consistent read")
        let relist = try #require(lists.last)
        #expect(relist.queryValue("resourceVersion") != nil)
        #expect(relist.queryValue("resourceVersionMatch") == "NotOlderThan")
        // The relist asked for the version the watch had reached (or a later bookmark), never an older one.
        // (The simulator's versions are integers; the client never compares them, the test may.)
        #expect(Int(relist.queryValue("resourceVersion") ?? "") ?? 0 >= Int(seen) ?? Int.max, "\(relist) after \(seen)")
        #expect(run.objects.count == 2)
    }

    @Test("3: a watch answered 410 at once relists")
    func watchGone() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        h.sim.inject(.status(code: 410, retryAfterSeconds: nil), matching: .watch(.services), times: 1)
        let run = h.run(.service)
        #expect(await run.wait { $0.lists["expired", default: 0] == 1 && $0.watches >= 2 })
        try h.service("b")
        #expect(try await h.waitConsistent(run))
        await run.stop()
        #expect(h.fullListCount(.services) == 2)
        #expect(run.statistics.watchRestarts["expired"] == 1)
    }

    @Test("4: an ERROR 410 mid-stream relists and applies the deletes missed while away")
    func errorEventAppliesMissedDeletes() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        for name in ["a", "b", "c"] { try h.service(name) }
        let run = h.run(.service)
        #expect(try await h.waitConsistent(run))
        // The next watch is refused for a second (Retry-After): meanwhile two services go and history is compacted,
        // so the watch that follows gets the ERROR 410 event and the deletes are never seen as events.
        h.sim.inject(.status(code: 503, retryAfterSeconds: 1), matching: .watch(.services), times: 1)
        h.sim.closeWatches()
        #expect(await run.wait { $0.watchRestarts["serverError", default: 0] == 1 })
        try h.sim.delete(.services, namespace: "shop", name: "a")
        try h.sim.delete(.services, namespace: "shop", name: "b")
        try h.service("d")
        h.sim.compact()
        #expect(await run.wait { $0.lists["expired", default: 0] == 1 })
        #expect(try await h.waitConsistent(run))
        await run.stop()
        #expect(Set(run.objects.keys.map(\.name)) == ["c", "d"])
        #expect(!run.events.contains { if case .delete = $0 { true } else { false } }, "the deletes came from the relist")
        let watches = h.sim.requests().filter { $0.isWatch && $0.resource == .services }
        #expect(watches.contains { $0.status == 200 && $0.fault == .none }, "\(watches)")
    }

    @Test("5: too large resource version on list and on watch backs off and recovers")
    func tooLargeResourceVersion() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        h.sim.inject(.tooLargeResourceVersion, matching: .list(.services), times: 2)
        let run = h.run(.service)
        #expect(try await h.waitConsistent(run))
        #expect(run.statistics.watchRestarts["tooLargeResourceVersion"] == 2)
        let version = run.statistics.resourceVersion
        h.sim.inject(.tooLargeResourceVersion, matching: .watch(.services), times: 2)
        h.sim.closeWatches()
        #expect(await run.wait { $0.watchRestarts["tooLargeResourceVersion", default: 0] == 4 && $0.condition == nil })
        try h.service("b")
        #expect(try await h.waitConsistent(run))
        await run.stop()
        #expect(h.fullListCount(.services) == 3, "two refused lists and one good one; the watch failures did not relist")
        let rewatches = h.sim.requests().filter { $0.isWatch && $0.resource == .services && $0.fault == .tooLargeResourceVersion }
        #expect(rewatches.count == 2)
        #expect(rewatches.allSatisfy { $0.queryValue("resourceVersion") == version }, "re-watch from the same version")
        // Four refusals backed off (closing the first watch early may add one for a watch that ended at once).
        #expect(run.statistics.backoffs.count - (run.statistics.watchRestarts["closedEmpty"] ?? 0) == 4)
    }

    @Test("6: a normal close after timeoutSeconds re-watches from the last version without listing")
    func normalClose() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        var configuration = SimHarness.quick
        configuration.watchTimeoutSeconds = 1...1
        let run = h.run(.service, configuration)
        #expect(try await h.waitConsistent(run))
        try h.service("b")
        #expect(await run.wait { $0.watchRestarts["closed", default: 0] >= 2 })
        try h.service("c")
        #expect(try await h.waitConsistent(run))
        await run.stop()
        #expect(h.fullListCount(.services) == 1)
        #expect(run.statistics.lists == ["initial": 1])
        let watches = h.sim.requests().filter { $0.isWatch && $0.resource == .services }
        #expect(watches.allSatisfy { $0.queryValue("timeoutSeconds") == "1" && $0.queryValue("allowWatchBookmarks") == "true" })
        #expect(Set(watches.compactMap { $0.queryValue("resourceVersion") }).count >= 2, "each re-watch resumes from where the last ended")
    }

    @Test("7: watches that close at once with no events back off")
    func instantCloses() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        h.sim.inject(.closeWatchImmediately, matching: .watch(.services), times: 4)
        let run = h.run(.service)
        #expect(await run.wait { $0.watchRestarts["closedEmpty", default: 0] == 4 && $0.condition == nil && $0.watches >= 5 })
        try h.service("b")
        #expect(try await h.waitConsistent(run))
        await run.stop()
        let delays = run.statistics.backoffs
        #expect(delays.count == 4)
        // Doubling from 100 ms with ±20% jitter: each delay above the last one's lower bound.
        #expect(delays[3] > delays[0] * 3, "\(delays)")
        #expect(h.fullListCount(.services) == 1)
        #expect(run.events.contains { if case .down = $0 { true } else { false } })
        #expect(run.events.last { if case .resumed = $0 { true } else { false } } != nil)
    }

    @Test("8: a connection that goes silent without FIN is detected within the bound and replaced")
    func silentConnection() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        let run = h.run(.service)
        #expect(try await h.waitConsistent(run))
        h.sim.inject(.stallAfterHeaders, matching: .watch(.services), times: 1)
        h.sim.closeWatches()
        let stalled = ContinuousClock.now
        #expect(await run.wait(timeout: .seconds(10)) { $0.watchRestarts["silent", default: 0] == 1 })
        let detected = ContinuousClock.now - stalled
        // Bound 2 s, checked every 0.5 s; generous slack for a loaded machine.
        #expect(detected < .seconds(6), "took \(detected)")
        try h.service("b")
        #expect(try await h.waitConsistent(run))
        await run.stop()
        #expect(h.fullListCount(.services) == 1)
    }

    @Test("9: BOOKMARKs advance the version, leave the store alone, and the next watch starts from them")
    func bookmarks() async throws {
        let h = try await SimHarness.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(200)))
        defer { Task { await h.stop() } }
        try h.service("a")
        let run = h.run(.service)
        #expect(try await h.waitConsistent(run))
        let listed = try #require(run.statistics.resourceVersion)
        let eventsBefore = run.events.count
        // Changes to another kind move the server's version; the services watch only hears of it by bookmark.
        _ = try h.sim.create(#"{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"}}"#)
        let current = h.sim.currentResourceVersion
        #expect(current != listed)
        #expect(await run.wait { $0.resourceVersion == current })
        #expect(run.events.count == eventsBefore, "bookmarks change nothing in the store")
        h.sim.closeWatches()
        #expect(await run.wait { $0.watches >= 2 })
        await run.stop()
        let last = try #require(h.sim.requests().last { $0.isWatch && $0.resource == .services })
        #expect(last.queryValue("resourceVersion") == current)
        #expect(h.fullListCount(.services) == 1)
    }

    @Test("10: an event over the size cap is dropped, logged and recovered by a relist")
    func oversizedEvent() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        var configuration = SimHarness.quick
        configuration.maximumEventSize = 4_000
        let run = h.run(.service, configuration)
        #expect(try await h.waitConsistent(run))
        let padding = String(repeating: "p", count: 6_000)
        try h.service("big", extra: #","annotations":{"note":"\#(padding)","mcdns.io/export":"true"}"#)
        try h.service("small")
        #expect(await run.wait { $0.lists["oversizedEvent", default: 0] == 1 })
        #expect(try await h.waitConsistent(run))
        await run.stop()
        #expect(run.objects[KubeObjectRef(kind: .service, namespace: "shop", name: "big")] != nil)
        #expect(run.statistics.skippedEvents >= 1)
    }

    @Test("metrics: relists and watch restarts are counted by cluster, resource and reason")
    func metricsByReason() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        h.sim.inject(.status(code: 410, retryAfterSeconds: nil), matching: .watch(.services), times: 1)
        let metrics = TestMetrics()
        let run = h.run(.service, metrics: metrics)
        #expect(await run.wait { $0.lists["expired", default: 0] == 1 })
        await run.stop()
        let dimensions = { (reason: String) in [("cluster", "sim"), ("resource", "services"), ("reason", reason)] }
        #expect(try metrics.expectCounter("mcdns_relists_total", dimensions("initial")).totalValue == 1)
        #expect(try metrics.expectCounter("mcdns_relists_total", dimensions("expired")).totalValue == 1)
        #expect(try metrics.expectCounter("mcdns_watch_restarts_total", dimensions("expired")).totalValue == 1)
    }
}
