import MCDNSModel
import Synchronization

/// The fake at the controller's seam: records every batch and keeps the state the batches add up to.
final class RecordingSink: ServiceRecordSink, Sendable {
    struct State: Sendable {
        var batches: [RecordChanges] = []
        var records: [ServiceKey: ServiceDNSRecord] = [:]
        var clusters: [ClusterInfo] = []

        func cluster(_ id: ClusterID) -> ClusterInfo? { clusters.first { $0.id == id } }
    }

    private let state = Mutex(State())
    /// Run by each apply before it records the batch (a test makes applying take time on its clock).
    private let duringApply = Mutex<(@Sendable () -> Void)?>(nil)

    func whileApplying(_ action: @escaping @Sendable () -> Void) { duringApply.withLock { $0 = action } }

    func apply(_ changes: RecordChanges) async {
        duringApply.withLock { $0 }?()
        state.withLock { state in
            state.batches.append(changes)
            for record in changes.upserted { state.records[record.key] = record }
            for key in changes.removed { state.records[key] = nil }
            if let clusters = changes.clusters { state.clusters = clusters }
        }
    }

    var current: State { state.withLock { $0 } }

    /// Waits until `condition` holds for the recorded state, polling until a deadline; returns the state that
    /// satisfied it, or nil (and the test then fails on its expectation).
    func wait(timeout: Duration = .seconds(10), until condition: (State) -> Bool) async -> State? {
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            let snapshot = current
            if condition(snapshot) { return snapshot }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }
}
