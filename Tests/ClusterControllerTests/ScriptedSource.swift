import ClusterController
import MCDNSModel
import Synchronization

/// A member source driven by the test: whatever the test sends is delivered as the member's events.
final class ScriptedSource: MemberSource, Sendable {
    let cluster: ClusterID
    private let stream: AsyncStream<MemberEvent>
    private let continuation: AsyncStream<MemberEvent>.Continuation

    init(_ cluster: ClusterID) {
        self.cluster = cluster
        (stream, continuation) = AsyncStream.makeStream(of: MemberEvent.self)
    }

    func send(_ events: MemberEvent...) {
        for event in events { continuation.yield(event) }
    }

    func run(events: MemberEventSink) async throws {
        for await event in stream { events.send(event) }
    }
}
