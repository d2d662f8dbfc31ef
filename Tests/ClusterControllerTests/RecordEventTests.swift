@testable import ClusterController
import DNSTestSupport
import Foundation
import KubeAPISimulator
import KubeClient
import MCDNSModel
import Testing

/// Issue 18: Events on a ServiceDNSRecord when a cluster stops or starts serving it, correlated as client-go's
/// recorder does (repeats counted on one Event, similar ones combined, a token bucket per object).
@Suite(.serialized) struct RecordEventTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func event(_ reason: String = "ClusterUnhealthy", _ message: String = "cluster east-1 left") -> RecordEvent {
        RecordEvent(namespace: "shop", name: "web", uid: "u-1", type: .warning, reason: reason, message: message)
    }

    @Test func aRepeatedEventRaisesTheCountOfTheOneRecorded() throws {
        var correlator = EventCorrelator()
        guard case .create(let first) = correlator.correlate(Self.event(), now: Self.start) else {
            Issue.record("the first occurrence must create an Event")
            return
        }
        #expect(first.count == 1 && first.name.hasPrefix("web."))
        let later = Self.start.addingTimeInterval(30)
        guard case .patch(let second) = correlator.correlate(Self.event(), now: later) else {
            Issue.record("a repeat must patch the Event")
            return
        }
        #expect(second.name == first.name && second.count == 2)
        #expect(second.firstTimestamp == Self.start && second.lastTimestamp == later)
        // Another reason, or another object, is another Event.
        guard case .create(let other) = correlator.correlate(Self.event("ClusterHealthy"), now: later) else {
            Issue.record("another reason must create its own Event")
            return
        }
        #expect(other.name != first.name)
        var elsewhere = Self.event()
        elsewhere.uid = "u-2"
        guard case .create = correlator.correlate(elsewhere, now: later) else {
            Issue.record("another object must create its own Event")
            return
        }
    }

    @Test func similarEventsWithManyMessagesAreCombined() {
        var correlator = EventCorrelator()
        var decisions: [EventCorrelator.Decision] = []
        for index in 0..<12 {
            decisions.append(
                correlator.correlate(
                    Self.event("ClusterUnhealthy", "cluster c\(index) left"),
                    now: Self.start.addingTimeInterval(Double(index))
                )
            )
        }
        // Nine distinct messages are nine Events; the tenth starts the combined one, which the rest patch.
        let created = decisions.compactMap { decision -> EventCorrelator.Recorded? in
            if case .create(let recorded) = decision { return recorded }
            return nil
        }
        #expect(created.count == 10)
        #expect(created.last?.message == EventCorrelator.combinedPrefix + "cluster c9 left")
        guard case .patch(let last) = decisions.last else {
            Issue.record("the combined Event must be patched")
            return
        }
        #expect(last.name == created.last?.name && last.count == 3)
        #expect(last.message == EventCorrelator.combinedPrefix + "cluster c11 left")
        // Past the window the group starts over.
        let fresh = correlator.correlate(
            Self.event("ClusterUnhealthy", "cluster c0 left"),
            now: Self.start.addingTimeInterval(700)
        )
        guard case .patch(let again) = fresh else {
            Issue.record("a message seen before patches its own Event again")
            return
        }
        #expect(again.message == "cluster c0 left" && again.count == 2)
    }

    @Test func theTokenBucketDropsPastItsBurstAndRefills() {
        var correlator = EventCorrelator(
            configuration: EventCorrelator.Configuration(burst: 3, refillInterval: .seconds(60))
        )
        var passed = 0
        for index in 0..<10
        where correlator.correlate(Self.event(), now: Self.start.addingTimeInterval(Double(index))) != .drop {
            passed += 1
        }
        #expect(passed == 3)
        // A minute later one token is back; the Event's count includes every dropped occurrence.
        guard case .patch(let recorded) = correlator.correlate(Self.event(), now: Self.start.addingTimeInterval(70))
        else {
            Issue.record("a refilled token must let the next occurrence through")
            return
        }
        #expect(recorded.count == 11)
        #expect(correlator.correlate(Self.event(), now: Self.start.addingTimeInterval(71)) == .drop)
    }

    @Test func transitionsNameTheClusterAndWhy() {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "web"))
        record.status.dns = [
            ClusterDNS(cluster: "east-1", region: "r", zones: [], readyEndpoints: 1),
            ClusterDNS(cluster: "east-2", region: "r", zones: [], readyEndpoints: 2, stale: true),
            ClusterDNS(cluster: "west-1", region: "r", zones: [], readyEndpoints: 0),
        ]
        let events = StatusWriter.transitions(
            record,
            readyBefore: "east-2,west-1,west-2",
            uid: "u-1",
            resourceVersion: "7"
        )
        #expect(events.map(\.reason) == ["ClusterStale", "ClusterUnhealthy", "ClusterUnhealthy", "ClusterHealthy"])
        #expect(events.map(\.type) == [.warning, .warning, .warning, .normal])
        #expect(events[0].message.hasPrefix("cluster east-2 is stale for shop/web"))
        #expect(events[1].message == "cluster west-1 has no ready endpoints for shop/web; answers leave it out")
        #expect(events[2].message.hasPrefix("cluster west-2 no longer has targets for shop/web"))
        #expect(events[3].message == "cluster east-1 serves shop/web again")
        #expect(StatusWriter.transitions(record, readyBefore: "east-1", uid: "u-1", resourceVersion: nil).isEmpty)
    }

    /// Flips the member's only endpoint unready and ready again through the real status writer, and reads the
    /// Events back with the real kubectl: one Event per reason whose count is the number of flips.
    @Test func flipsShowAsCountedEventsInKubectlDescribe() async throws {
        // Authentication off: kubectl does not send a bearer token over plain http.
        let sim = try await KubeAPISimulator.start(SimulatorConfiguration(bookmarkInterval: .milliseconds(500)))
        defer { Task { try? await sim.stop() } }
        let replica = try HostReplica(name: "replica-a", token: "token-a", sim: sim, resync: .seconds(30))
        defer { Task { await replica.stop() } }
        replica.publish(address: "10.0.0.1")
        func readyCount() -> String? {
            (sim.webRecord()?["status"] as? [String: Any])?["readyCount"] as? String
        }
        func set(ready: Bool) async -> Bool {
            replica.member.send(
                .upsert(.endpointSlice(Fixture.slice("web-1", [Fixture.endpoint("10.0.0.1", ready: ready)])))
            )
            return await eventually { readyCount() == (ready ? "1/1" : "0/1") }
        }
        #expect(await eventually { readyCount() == "1/1" })
        // The first status is no transition.
        #expect(sim.objects(.events, namespace: "shop").isEmpty)

        let flips = 6
        for _ in 0..<flips {
            #expect(await set(ready: false))
            #expect(await set(ready: true))
        }
        #expect(await eventually { replica.writer.eventStatistics.patched == 2 * (flips - 1) })
        let statistics = replica.writer.eventStatistics
        #expect(statistics.created == 2 && statistics.dropped == 0 && statistics.failed == 0, "\(statistics)")

        let events = sim.objects(.events, namespace: "shop").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(events.count == 2)
        let uid = (sim.webRecord()?["metadata"] as? [String: Any])?["uid"] as? String
        for event in events {
            let involved = event["involvedObject"] as? [String: Any]
            #expect(involved?["kind"] as? String == "ServiceDNSRecord" && involved?["uid"] as? String == uid)
            #expect(event["count"] as? Int == flips, "\(event)")
            #expect((event["source"] as? [String: Any])?["host"] as? String == "replica-a")
        }
        #expect(Set(events.compactMap { $0["reason"] as? String }) == ["ClusterUnhealthy", "ClusterHealthy"])

        let directory = try TemporaryDirectory()
        let kubectl = try ProcessRunner.locate("kubectl", package: "kubernetes-client")
        let kubeconfig = directory.path + "/kubeconfig"
        try directory.write(
            "kubeconfig",
            """
            apiVersion: v1
            kind: Config
            clusters:
            - name: sim
              cluster:
                server: \(sim.baseURL)
            contexts:
            - name: sim
              context:
                cluster: sim
                user: sim-user
                namespace: shop
            current-context: sim
            users:
            - name: sim-user
              user:
                username: nobody
            """
        )
        func run(_ arguments: [String]) throws -> ProcessOutput {
            try ProcessRunner.run(
                kubectl,
                ["--kubeconfig", kubeconfig, "--cache-dir", directory.path + "/cache", "--request-timeout", "10s"]
                    + arguments,
                timeout: .seconds(30)
            )
        }
        let describe = try run(["describe", "servicednsrecord", "web"])
        #expect(describe.status == 0, "\(describe.stderr)")
        let lines = describe.stdout.split(separator: "\n").map(String.init)
        let unhealthy = lines.first { $0.contains("ClusterUnhealthy") }
        let healthy = lines.first { $0.contains("ClusterHealthy") }
        #expect(unhealthy?.contains("Warning") == true, "\(describe.stdout)")
        #expect(unhealthy?.contains("(x\(flips) over") == true, "\(describe.stdout)")
        // kubectl 1.32 prints source.component in From (older ones add source.host: "mcdns, replica-a").
        #expect(unhealthy?.contains("  mcdns") == true, "\(describe.stdout)")
        #expect(unhealthy?.contains("cluster east-1 has no ready endpoints for shop/web") == true)
        #expect(
            healthy?.contains("Normal") == true && healthy?.contains("(x\(flips) over") == true,
            "\(describe.stdout)"
        )

        // Another record's describe shows none of them (the field selector names the object).
        try sim.create(
            #"{"apiVersion":"multicluster.mcdns.io/v1alpha1","kind":"ServiceDNSRecord","metadata":{"name":"other","namespace":"shop"}}"#
        )
        let other = try run(["describe", "sdr", "other"])
        #expect(other.status == 0, "\(other.stderr)")
        #expect(!other.stdout.contains("ClusterUnhealthy"), "\(other.stdout)")

        let listed = try run(["get", "events", "--field-selector", "reason=ClusterHealthy", "-o", "json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let items =
            (try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any])?["items"]
            as? [[String: Any]]
        #expect(items?.count == 1 && items?.first?["count"] as? Int == flips, "\(listed.stdout)")
    }

    /// Events are best effort: a replica whose RBAC lacks them still writes every status, and reports no problem.
    @Test func eventsDeniedByRBACDoNotHoldStatusUp() async throws {
        var configuration = SimulatorConfiguration(
            tokens: StatusWriterTests.tokens,
            bookmarkInterval: .milliseconds(500)
        )
        configuration.allowedUsers = [.events: ["admin"]]
        let sim = try await KubeAPISimulator.start(configuration)
        defer { Task { try? await sim.stop() } }
        let replica = try HostReplica(name: "replica-a", token: "token-a", sim: sim, resync: .seconds(30))
        defer { Task { await replica.stop() } }
        replica.publish(address: "10.0.0.1")
        func readyCount() -> String? {
            (sim.webRecord()?["status"] as? [String: Any])?["readyCount"] as? String
        }
        #expect(await eventually { readyCount() == "1/1" })
        replica.member.send(
            .upsert(.endpointSlice(Fixture.slice("web-1", [Fixture.endpoint("10.0.0.1", ready: false)])))
        )
        #expect(await eventually { readyCount() == "0/1" })
        #expect(await eventually { replica.writer.eventStatistics.failed == 1 })
        #expect(sim.requests().contains { $0.method == "POST" && $0.path.hasSuffix("/events") && $0.status == 403 })
        #expect(sim.objects(.events).isEmpty)
        #expect(replica.writer.problems.isEmpty)
    }
}
