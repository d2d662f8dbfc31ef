import ClusterController
import Foundation
import KubeAPISimulator
import KubeClient
import MCDNSModel
import Testing

/// The host-cluster half against the API simulator over HTTP: leader election on a Lease, the status writer,
/// and user specs flowing into the merge. Lease timings are shortened (2 s lease, 200 ms retry); retries, lease
/// expiry, the writer's resyncs and its conflict backoffs come when a test advances its replica's clocks.
@Suite(.serialized) struct StatusWriterTests {
    static let tokens = ["token-a": "replica-a", "token-b": "replica-b", "token-admin": "admin"]

    static func simulator() async throws -> KubeAPISimulator {
        try await KubeAPISimulator.start(SimulatorConfiguration(tokens: tokens, bookmarkInterval: .milliseconds(500)))
    }

    static func lease(_ sim: KubeAPISimulator) -> [String: Any]? {
        sim.get(.leases, namespace: "mcdns-system", name: "mcdns-leader").flatMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func holder(_ sim: KubeAPISimulator) -> String? {
        (lease(sim)?["spec"] as? [String: Any])?["holderIdentity"] as? String
    }

    static func readyEndpoints(_ record: [String: Any]?) -> Int? {
        let dns = (record?["status"] as? [String: Any])?["dns"] as? [[String: Any]]
        return dns?.first?["readyEndpoints"] as? Int
    }

    static func clusterIPs(_ record: [String: Any]?) -> [String] {
        let dns = (record?["status"] as? [String: Any])?["dns"] as? [[String: Any]]
        return dns?.first?["clusterIPs"] as? [String] ?? []
    }

    @Test func exactlyOneOfTwoReplicasWritesAndTheOtherTakesOverWhenItStops() async throws {
        let sim = try await Self.simulator()
        defer { Task { try? await sim.stop() } }
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim)
        let b = try HostReplica(name: "replica-b", token: "token-b", sim: sim)
        for replica in [a, b] { replica.publish(address: "10.0.0.1") }

        #expect(await eventually { Self.readyEndpoints(sim.webRecord()) == 1 })
        let record = try #require(sim.webRecord())
        let labels = (record["metadata"] as? [String: Any])?["labels"] as? [String: String]
        #expect(labels?["app.kubernetes.io/managed-by"] == "mcdns")
        let status = try #require(record["status"] as? [String: Any])
        #expect(status["observedGeneration"] as? Int == 1)
        let dns = try #require((status["dns"] as? [[String: Any]])?.first)
        #expect(dns["cluster"] as? String == "east-1")
        #expect(dns["region"] as? String == "us-east-1")
        #expect(dns["zones"] as? [String] == ["us-east-1a"])
        let conditions = status["conditions"] as? [[String: Any]] ?? []
        #expect(conditions.first { $0["type"] as? String == "Ready" }?["status"] as? String == "True")

        // Exactly one replica leads and writes; the other wrote nothing (and both serve the same records).
        let leader = try #require(Self.holder(sim))
        let (first, second) = leader == "replica-a" ? (a, b) : (b, a)
        #expect(first.elector.isLeader() && !second.elector.isLeader())
        // The follower has acted on every batch and on resyncs, and wrote nothing.
        #expect(await second.settle())
        #expect(sim.statusWrites(by: first.name) >= 1)
        #expect(sim.statusWrites(by: second.name) == 0)
        #expect(second.sink.current.records[Fixture.key] != nil)
        #expect(
            sim.requests().filter { $0.method != "GET" && $0.resource == .serviceDNSRecords && $0.user == second.name }
                .isEmpty
        )

        // The leader stops (SIGTERM: it releases the Lease); the other leads at a retry before the lease would
        // have expired on its clock, and writes the next change.
        await first.stop()
        #expect(
            await second.advanceElection(within: HostReplica.timings.leaseDuration - .milliseconds(1)) {
                second.elector.isLeader()
            }
        )
        #expect(Self.holder(sim) == second.name)
        let writesBefore = sim.statusWrites(by: first.name)
        second.member.send(
            .upsert(
                .endpointSlice(
                    Fixture.slice(
                        "web-1",
                        [
                            Fixture.endpoint("10.0.0.1", ready: true), Fixture.endpoint("10.0.0.2", ready: true),
                        ]
                    )
                )
            )
        )
        #expect(await second.advance { Self.readyEndpoints(sim.webRecord()) == 2 })
        #expect(sim.statusWrites(by: second.name) >= 1)
        #expect(sim.statusWrites(by: first.name) == writesBefore)
        await second.stop()
    }

    @Test func aReplicaThatLostTheLeaseWritesNothingMore() async throws {
        let sim = try await Self.simulator()
        defer { Task { try? await sim.stop() } }
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim)
        defer { Task { await a.stop() } }
        a.publish(address: "10.0.0.1")
        #expect(await eventually { Self.readyEndpoints(sim.webRecord()) == 1 })
        #expect(a.elector.isLeader())

        // Someone else takes the Lease: the replica's renewals fail, and it stops leading at its renew deadline,
        // before the intruder's lease could expire on its clock.
        var lease = try #require(Self.lease(sim))
        var spec = lease["spec"] as? [String: Any] ?? [:]
        spec["holderIdentity"] = "intruder"
        spec["renewTime"] = Date().formatted(.iso8601)
        lease["spec"] = spec
        try sim.update(String(decoding: try JSONSerialization.data(withJSONObject: lease), as: UTF8.self))
        #expect(
            await a.advanceElection(within: HostReplica.timings.leaseDuration - .milliseconds(1)) {
                !a.elector.isLeader()
            }
        )
        let writes = sim.statusPuts().count
        a.member.send(
            .upsert(
                .endpointSlice(
                    Fixture.slice(
                        "web-1",
                        [
                            Fixture.endpoint("10.0.0.1", ready: true), Fixture.endpoint("10.0.0.3", ready: true),
                        ]
                    )
                )
            )
        )
        // The merge sees it (every replica serves DNS) but no status is written while the intruder holds on.
        #expect(await eventually { a.sink.current.records[Fixture.key]?.status.dns.first?.readyEndpoints == 2 })
        #expect(await a.settle())
        #expect(sim.statusPuts().count == writes)
        #expect(Self.readyEndpoints(sim.webRecord()) == 1)
        #expect(!a.elector.isLeader())

        // The intruder renews no more: once its lease expired on the replica's clock, the replica leads again and
        // catches up.
        #expect(await a.advanceElection(within: .seconds(3)) { a.elector.isLeader() })
        #expect(await a.advance { Self.readyEndpoints(sim.webRecord()) == 2 })
        #expect(Self.holder(sim) == "replica-a")
    }

    @Test func aStaleResourceVersionConflictsAndTheWriterReadsAgainAndSucceeds() async throws {
        let sim = try await Self.simulator()
        defer { Task { try? await sim.stop() } }
        // The records watch stalls after the first list: the writer knows only what its own writes answered, so
        // a change made by someone else leaves it holding a stale resourceVersion.
        sim.inject(.stall, matching: .watch(.serviceDNSRecords))
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim, resync: .seconds(30))
        defer { Task { await a.stop() } }
        a.publish(address: "10.0.0.1")
        #expect(await eventually { Self.readyEndpoints(sim.webRecord()) == 1 })

        // A user labels the object: its resourceVersion moves on.
        var object = try #require(sim.webRecord())
        var metadata = object["metadata"] as? [String: Any] ?? [:]
        var labels = metadata["labels"] as? [String: String] ?? [:]
        labels["team"] = "shop"
        metadata["labels"] = labels
        object["metadata"] = metadata
        try sim.update(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self))
        let putsBefore = sim.statusPuts().count

        a.member.send(
            .upsert(
                .endpointSlice(
                    Fixture.slice(
                        "web-1",
                        [
                            Fixture.endpoint("10.0.0.1", ready: true), Fixture.endpoint("10.0.0.4", ready: true),
                        ]
                    )
                )
            )
        )
        // The retry waits for the backoff on the writer's clock: until the clock moves, only the 409 was sent.
        #expect(await eventually { a.writer.statistics.conflicts == 1 })
        #expect(sim.statusPuts().dropFirst(putsBefore).map(\.status) == [409])
        #expect(await a.advance { Self.readyEndpoints(sim.webRecord()) == 2 })
        let puts = sim.statusPuts().dropFirst(putsBefore)
        // One 409 with the stale version, then (after a fresh GET) one 200: no hot loop.
        #expect(puts.map(\.status) == [409, 200])
        #expect(a.writer.statistics.conflicts == 1)
        let stored = try #require(sim.webRecord())
        #expect(((stored["metadata"] as? [String: Any])?["labels"] as? [String: String])?["team"] == "shop")
    }

    @Test func aRecordDeletedWhileItsStatusWriteIsAnsweredIsRecreated() async throws {
        let sim = try await Self.simulator()
        defer { Task { try? await sim.stop() } }
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim, resync: .milliseconds(100))
        defer { Task { await a.stop() } }
        a.publish(address: "10.0.0.1")
        #expect(await eventually { Self.readyEndpoints(sim.webRecord()) == 1 })

        // The next status write takes effect at once but its answer comes late; meanwhile the object is deleted and
        // the watch shows the delete before the writer hears its answer. That answer is older than the delete.
        sim.inject(
            .answerLate(.milliseconds(800)),
            matching: .path(prefix: "/apis/multicluster.mcdns.io/v1alpha1/namespaces/shop/servicednsrecords/web/status")
        )
        a.member.send(
            .upsert(
                .endpointSlice(
                    Fixture.slice(
                        "web-1",
                        [Fixture.endpoint("10.0.0.1", ready: true), Fixture.endpoint("10.0.0.2", ready: true)]
                    )
                )
            )
        )
        #expect(await eventually { Self.readyEndpoints(sim.webRecord()) == 2 })
        try sim.delete(.serviceDNSRecords, namespace: "shop", name: "web")
        #expect(sim.pendingFaults == 0)

        // The writer recreates its object and writes the status again (not: "already current" from the late answer).
        #expect(
            await a.advance {
                let record = sim.webRecord()
                return Self.readyEndpoints(record) == 2
                    && ((record?["metadata"] as? [String: Any])?["labels"] as? [String: String])?[
                        "app.kubernetes.io/managed-by"
                    ] == "mcdns"
            }
        )
        #expect(a.writer.statistics.created == 2)
    }

    @Test func nothingIsWrittenWhileTheStatusIsUnchanged() async throws {
        let sim = try await Self.simulator()
        defer { Task { try? await sim.stop() } }
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim, resync: .milliseconds(100))
        defer { Task { await a.stop() } }
        a.publish(address: "10.0.0.1")
        #expect(await eventually { Self.readyEndpoints(sim.webRecord()) == 1 })
        let puts = sim.statusPuts().count
        // The same objects again and several resync rounds: every round compares, none writes.
        a.publish(address: "10.0.0.1")
        #expect(await a.settle())
        let rounds = a.writer.statistics.rounds
        #expect(await a.advance { a.writer.statistics.rounds >= rounds + 5 })
        #expect(sim.statusPuts().count == puts)
        #expect(a.writer.statistics.statusWrites == puts)
    }

    @Test func userSpecsFlowIntoTheMergeAndUserObjectsAreNeverDeleted() async throws {
        let sim = try await Self.simulator()
        defer { Task { try? await sim.stop() } }
        // A user's record for shop/web, before mcdns runs.
        try sim.create(
            #"{"apiVersion":"multicluster.mcdns.io/v1alpha1","kind":"ServiceDNSRecord","metadata":{"name":"web","namespace":"shop"},"spec":{"recordTTL":7,"dnsPrefix":"www","externalName":"store"}}"#
        )
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim)
        defer { Task { await a.stop() } }
        a.publish(address: "10.0.0.1", annotations: ["mcdns.io/export": "true", "mcdns.io/ttl": "60"])
        let merged = await a.sink.wait { $0.records[Fixture.key]?.spec.recordTTL == 7 }
        let spec = try #require(merged?.records[Fixture.key]?.spec)
        #expect(spec.dnsPrefix == "www")
        #expect(spec.externalName == "store")
        // Its status is written, its spec and labels left alone.
        #expect(await eventually { Self.readyEndpoints(sim.webRecord()) == 1 })
        let stored = try #require(sim.webRecord())
        #expect((stored["metadata"] as? [String: Any])?["labels"] == nil)

        // The user edits the spec: the merge follows; removing the field falls back to the annotation.
        var edited = stored
        edited["spec"] = ["recordTTL": 9]
        try sim.update(String(decoding: try JSONSerialization.data(withJSONObject: edited), as: UTF8.self))
        let followed = await a.sink.wait { $0.records[Fixture.key]?.spec.recordTTL == 9 }
        #expect(followed?.records[Fixture.key]?.spec.dnsPrefix == nil)
        #expect(
            await a.advance {
                ((sim.webRecord()?["status"] as? [String: Any])?["observedGeneration"] as? Int) == 2
            }
        )
        try sim.delete(.serviceDNSRecords, namespace: "shop", name: "web")
        #expect(await a.sink.wait { $0.records[Fixture.key]?.spec.recordTTL == 60 } != nil)

        // mcdns recreated it as its own; now a user record for another service that is not exported stays.
        #expect(
            await a.advance {
                ((sim.webRecord()?["metadata"] as? [String: Any])?["labels"] as? [String: String])?[
                    "app.kubernetes.io/managed-by"
                ] == "mcdns"
            },
            "\(sim.requests().filter { $0.method != "GET" }.map { "\($0.method) \($0.path) \($0.status)" })"
        )
        try sim.create(
            #"{"apiVersion":"multicluster.mcdns.io/v1alpha1","kind":"ServiceDNSRecord","metadata":{"name":"api","namespace":"shop"},"spec":{"recordTTL":5}}"#
        )
        // The service leaves: mcdns deletes its own object, never the user's (which the writer knows of: the round
        // that deletes shop/web sees shop/api too).
        #expect(await eventually { a.records.records()[ServiceKey(namespace: "shop", name: "api")] != nil })
        a.withdraw()
        #expect(await a.advance { sim.webRecord() == nil })
        #expect(await a.settle())
        #expect(sim.get(.serviceDNSRecords, namespace: "shop", name: "api") != nil)
    }
}
