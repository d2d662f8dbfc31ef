import ClusterController
import DNSTestSupport
import KubeClient
import MCDNSModel
import Testing

/// Draining through the controller: the member list carries the drain to the answers, every record of the
/// drained member gets a `Drained` condition (the status writer's input), and the member's source is untouched.
@Suite("Draining")
struct DrainControllerTests {
    static let web = ServiceKey(namespace: "shop", name: "web")

    func drained(_ state: RecordingSink.State) -> Condition? {
        state.records[Self.web]?.status.conditions.first { $0.type == RecordMerger.ConditionType.drained }
    }

    @Test func drainsReachTheMemberListAndTheRecordsConditions() async throws {
        let east = ScriptedSource("east-1")
        let west = ScriptedSource("west-1")
        let harness = try ControllerHarness(
            configuration: ControllerConfiguration(
                members: [.scripted("east-1", region: "us-east-1", zones: ["us-east-1a"]),
                          .scripted("west-1", region: "us-west-2", zones: ["us-west-2a"])],
                export: ExportPolicy(), staleGracePeriod: .seconds(120), coalescingWindow: .zero),
            sources: [east, west],
            clock: ManualClock()
        )
        defer { harness.task.cancel() }
        for source in [east, west] {
            source.send(.upsert(.service(F.service())), .upsert(.endpointSlice(F.slice("web-a", [F.endpoint("10.0.0.1")]))),
                        .synced)
        }
        let synced = await harness.sink.wait {
            $0.records[Self.web]?.status.dns.count == 2 && $0.clusters.allSatisfy { $0.link == .synced }
        }
        #expect(synced.map(drained) == .some(nil))

        harness.controller.setDrains(["east-1": ClusterDrain(origin: .admin, reason: "upgrade")])
        let one = await harness.sink.wait { drained($0) != nil }
        #expect(one?.cluster("east-1")?.drain == ClusterDrain(origin: .admin, reason: "upgrade"))
        #expect(one?.cluster("west-1")?.drain == nil)
        #expect(one.flatMap(drained)?.reason == RecordMerger.DrainReason.clusterDrained)
        #expect(one.flatMap(drained)?.message.contains("east-1 drained by mcdns drain (upgrade)") == true)
        #expect(one?.records[Self.web]?.status.conditions.first?.status == .true)  // Ready stays True

        harness.controller.setDrains(["east-1": ClusterDrain(origin: .admin), "west-1": ClusterDrain(origin: .configuration)])
        let both = await harness.sink.wait { drained($0)?.reason == RecordMerger.DrainReason.allHealthyDrained }
        #expect(both.flatMap(drained)?.message.contains("answering as if none were") == true)

        harness.controller.setDrains([:])
        let none = await harness.sink.wait { drained($0) == nil && $0.clusters.allSatisfy { $0.drain == nil } }
        #expect(none != nil)
        // The member's watches were never restarted: its source saw no new run.
        #expect(harness.controller.status().allSatisfy { $0.link == .synced })
        await harness.stop()
    }
}
