import Synchronization

/// Counts the UDP threads still running and wakes the service task when they are all gone, or when one
/// of them failed (so the others can be stopped and the failure reported instead of serving on quietly).
final class WorkerExitTracker: Sendable {
    struct State {
        var running: Int
        var failures: [String] = []
    }

    private struct Waiter {
        let condition: @Sendable (State) -> Bool
        let continuation: CheckedContinuation<Void, Never>
    }

    private let state: Mutex<(state: State, waiter: Waiter?)>

    init(running: Int) {
        state = Mutex((State(running: running), nil))
    }

    var failures: [String] { state.withLock { $0.state.failures } }

    /// Called by a worker thread as its last act; `failure` describes why it stopped, if it was not asked to.
    func exited(failure: String?) {
        let ready: CheckedContinuation<Void, Never>? = state.withLock { value in
            value.state.running -= 1
            if let failure { value.state.failures.append(failure) }
            guard let waiter = value.waiter, waiter.condition(value.state) else { return nil }
            value.waiter = nil
            return waiter.continuation
        }
        ready?.resume()
    }

    func waitUntilAllExitedOrOneFailed() async {
        await wait { $0.running == 0 || !$0.failures.isEmpty }
    }

    func waitUntilAllExited() async {
        await wait { $0.running == 0 }
    }

    /// One waiter at a time: only the service's `run()` waits here.
    private func wait(until condition: @escaping @Sendable (State) -> Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now: Bool = state.withLock { value in
                if condition(value.state) { return true }
                precondition(value.waiter == nil, "WorkerExitTracker supports a single waiter")
                value.waiter = Waiter(condition: condition, continuation: continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
