@testable import ClusterController
import KubeClient
import Logging
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

/// Port lists and conditions that records hold alike are stored once (issue 3's memory goal).
@Suite struct SharedValuesTests {
    @Test func recordsWithEqualPortsAndConditionsShareTheirArrays() {
        let member = MemberConfiguration(name: ClusterID("m1"), region: "r1", zones: ["z1"],
                                         source: .manifests(path: "/nonexistent"))
        var state = ReconcileState<ContinuousClock.Instant>(
            configuration: ControllerConfiguration(members: [member], export: ExportPolicy(namespaces: ["shop"])))
        let logger = Logger(label: "test")
        func send(_ event: MemberEvent) {
            _ = state.handle(event, member: 0, now: ContinuousClock.now, wallClock: 0, logger: logger)
        }
        for name in ["a", "b", "c"] {
            send(.upsert(.service(F.service(name, ports: [KubeService.Port(name: "http", port: 80)]))))
            send(.upsert(.endpointSlice(F.slice("\(name)-1", service: name, [F.endpoint("10.0.0.1")]))))
        }
        send(.upsert(.service(F.service("d", ports: [KubeService.Port(name: "grpc", port: 9090)]))))
        send(.synced)
        let changes = state.flush()
        let records = Dictionary(uniqueKeysWithValues: changes.upserted.map { ($0.key.name, $0) })
        #expect(records.count == 4)
        func storage<T>(_ array: [T]) -> UnsafeRawPointer? { array.withUnsafeBytes { UnsafeRawPointer($0.baseAddress) } }
        let (a, b, c, d) = (records["a"]!, records["b"]!, records["c"]!, records["d"]!)
        #expect(a.status.ports == [ServicePort(name: "http", protocol: "TCP", port: 80)])
        #expect(storage(a.status.ports) == storage(b.status.ports) && storage(b.status.ports) == storage(c.status.ports))
        #expect(storage(a.status.conditions) == storage(c.status.conditions))
        // Different values stay apart and keep their own content.
        #expect(d.status.ports == [ServicePort(name: "grpc", protocol: "TCP", port: 9090)])
        #expect(storage(d.status.ports) != storage(a.status.ports))
        #expect(d.status.conditions.first?.reason == "NoReadyEndpoints")
        #expect(a.status.conditions.first?.reason == "EndpointsReady")
    }

    @Test func theTableStartsAgainPastItsLimitAndKeepsEveryValue() {
        var shared = SharedValues()
        var records: [ServiceDNSRecord] = []
        for port in 0..<(SharedValues.limit + 10) {
            var record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "s\(port)"))
            record.status.ports = [ServicePort(name: "p", protocol: "TCP", port: port)]
            shared.share(&record)
            records.append(record)
        }
        #expect(records.enumerated().allSatisfy { $1.status.ports.first?.port == $0 })
        var again = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "x"))
        again.status.ports = [ServicePort(name: "p", protocol: "TCP", port: SharedValues.limit + 5)]
        shared.share(&again)
        func storage(_ record: ServiceDNSRecord) -> UnsafeRawPointer? {
            record.status.ports.withUnsafeBytes { UnsafeRawPointer($0.baseAddress) }
        }
        // Values seen since the table started again are shared; older ones are equal but no longer shared.
        #expect(storage(again) == storage(records[SharedValues.limit + 5]))
        var old = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "y"))
        old.status.ports = [ServicePort(name: "p", protocol: "TCP", port: 3)]
        shared.share(&old)
        #expect(old.status.ports == records[3].status.ports && storage(old) != storage(records[3]))
    }
}
