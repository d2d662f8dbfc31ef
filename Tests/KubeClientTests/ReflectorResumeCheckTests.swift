import DNSTestSupport
import Foundation
import KubeAPISimulator
import KubeClient
import Logging
import Synchronization
import Testing

/// Issue 23: a watch resumes from our version only on the server whose history it comes from (DESIGN §6). A
/// server behind our version answers such a watch 200 and then nothing, so without the check the reflector froze
/// on stale data for good. Time runs on a manual clock: backoffs and the silence bound pass when the test says.
@Suite struct ReflectorResumeCheckTests {
    /// Forwards to one of two connectors, as a load balancer or a tunnel name that moved to another API server
    /// without the client's connection breaking.
    final class SwitchConnector: KubeConnector {
        let targets: [any KubeConnector]
        let current = Mutex(0)

        init(_ targets: [any KubeConnector]) {
            self.targets = targets
        }

        func execute(_ request: KubeRequest) async throws -> KubeResponse {
            try await targets[current.withLock { $0 }].execute(request)
        }
    }

    static func quick() -> ReflectorConfiguration {
        var configuration = SimHarness.quick
        configuration.silenceTimeout = .seconds(20)
        return configuration
    }

    /// Advances `clock` a second at a time (with a moment of real time for the reflector to act) until
    /// `condition` holds; false after 15 s of real time.
    static func advance(_ clock: ManualClock, until condition: () throws -> Bool) async rethrows -> Bool {
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if try condition() { return true }
            clock.advance(by: .seconds(1))
            try? await Task.sleep(for: .milliseconds(20))
        }
        return try condition()
    }

    @Test func aServerRestoredBehindOurVersionIsListedAgainNotWatchedFromTheFuture() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        let backup = h.sim.snapshot()
        try h.service("b")
        try h.service("c")
        let clock = ManualClock()
        let reflector = Reflector(kind: .service, connector: h.connector, configuration: Self.quick(), cluster: "sim",
                                  clock: ReflectorClock(clock), logger: Logger(label: "test"))
        let run = ReflectorRun(reflector: reflector)
        defer { Task { await run.stop() } }
        #expect(try await h.waitConsistent(run))
        let identity = h.sim.kubeSystemUID

        // etcd restored from a backup taken before b and c: same cluster, lower revision.
        try await h.sim.restart(restoring: backup)
        #expect(h.sim.kubeSystemUID == identity)
        #expect(try await Self.advance(clock) { Set(run.objects.keys.map(\.name)) == ["a"] }, "\(run.statistics)")
        #expect(run.statistics.lists["serverBehind"] == 1)
        // Later changes in the restored server arrive: the watch follows its history now.
        try h.service("d")
        #expect(try await Self.advance(clock) { Set(run.objects.keys.map(\.name)) == ["a", "d"] }, "\(run.statistics)")
        #expect(try await h.waitConsistent(run))
    }

    @Test func aSilentWatchFromAVersionAheadOfAnotherServerIsTakenAsExpired() async throws {
        let a = try await SimHarness.start()
        defer { Task { await a.stop() } }
        let b = try await SimHarness.start(
            SimulatorConfiguration(bookmarkInterval: .milliseconds(500), initialResourceVersion: 1_000)
        )
        defer { Task { await b.stop() } }
        try a.service("near")
        try b.service("intruder")
        let connector = SwitchConnector([a.connector, b.connector])
        connector.current.withLock { $0 = 1 }
        let clock = ManualClock()
        let reflector = Reflector(kind: .service, connector: connector, configuration: Self.quick(), cluster: "far",
                                  clock: ReflectorClock(clock), logger: Logger(label: "test"))
        let run = ReflectorRun(reflector: reflector)
        defer { Task { await run.stop() } }
        #expect(try await b.waitConsistent(run))
        // An event through B's watch, so the watch that B ends next has delivered something.
        try b.service("intruder-2")
        #expect(try await b.waitConsistent(run))

        // The name now leads to server A, whose versions are far lower; B's watch ends normally (with bookmarks
        // seen, so nothing looks wrong yet) and the next one goes to A from B's version.
        connector.current.withLock { $0 = 0 }
        b.sim.closeWatches()
        #expect(try await Self.advance(clock) { Set(run.objects.keys.map(\.name)) == ["near"] }, "\(run.statistics)")
        #expect(run.statistics.watchRestarts["silent", default: 0] >= 1, "the watch on A stayed silent")
        #expect(run.statistics.lists["identityChanged"] == 1)
        try a.service("later")
        #expect(try await Self.advance(clock) { Set(run.objects.keys.map(\.name)) == ["near", "later"] })
    }

    @Test func theSameServerAfterAnOutageResumesWithoutAList() async throws {
        let h = try await SimHarness.start()
        defer { Task { await h.stop() } }
        try h.service("a")
        let clock = ManualClock()
        let reflector = Reflector(kind: .service, connector: h.connector, configuration: Self.quick(), cluster: "sim",
                                  clock: ReflectorClock(clock), logger: Logger(label: "test"))
        let run = ReflectorRun(reflector: reflector)
        defer { Task { await run.stop() } }
        #expect(try await h.waitConsistent(run))
        try await h.sim.pause()
        try h.service("b")
        try await h.sim.resume()
        #expect(try await Self.advance(clock) { Set(run.objects.keys.map(\.name)) == ["a", "b"] }, "\(run.statistics)")
        #expect(run.statistics.resumeChecks >= 1)
        #expect(run.statistics.lists == ["initial": 1])
    }
}
