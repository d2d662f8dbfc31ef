@testable import ClusterController
import MCDNSModel
import Testing

/// The controller's dirty set after a burst (issue 3's memory goal): a member's first sync marks every service at
/// once, and the set must not keep room for all of them once they are merged.
@Suite struct ReconcileStateTests {
    @Test func aFlushLetsGoOfTheRoomOfABurst() {
        var state = ReconcileState<ContinuousClock.Instant>(configuration: ControllerConfiguration(members: []))
        state.dirty = Set((0..<20_000).map { ServiceKey(namespace: "bench", name: "s\($0)") })
        #expect(state.dirty.capacity >= 20_000)
        _ = state.flush()
        #expect(state.dirty.isEmpty)
        #expect(state.dirty.capacity < 20_000, "room for \(state.dirty.capacity) keys kept")
        // A small batch keeps its room: the next small batch needs no allocation.
        state.dirty = Set((0..<100).map { ServiceKey(namespace: "shop", name: "s\($0)") })
        let room = state.dirty.capacity
        _ = state.flush()
        #expect(state.dirty.isEmpty && state.dirty.capacity == room)
    }
}
