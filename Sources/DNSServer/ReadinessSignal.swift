import Synchronization

/// A value that becomes known once (the bound addresses of a listener), awaited by any number of tasks.
///
/// `run()` of a service fulfils it after binding, or fails it when binding fails, so a caller waiting on
/// readiness never waits on a listener that will not come.
final class ReadinessSignal<Value: Sendable>: Sendable {
    private enum State {
        case pending(waiters: [Int: CheckedContinuation<Value, any Error>], nextID: Int)
        case done(Result<Value, any Error>)
    }

    private let state = Mutex<State>(.pending(waiters: [:], nextID: 0))

    func succeed(_ value: Value) { complete(.success(value)) }

    func fail(_ error: any Error) { complete(.failure(error)) }

    /// The value if it is already known.
    var value: Value? {
        state.withLock { state in
            if case .done(.success(let value)) = state { return value }
            return nil
        }
    }

    /// Waits for the value; throws the listener's error, or `CancellationError` when the waiting task is cancelled.
    func wait() async throws -> Value {
        let id = Mutex<Int?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                let immediate: Result<Value, any Error>? = state.withLock { state in
                    switch state {
                    case .done(let result):
                        return result
                    case .pending(var waiters, let nextID):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiters[nextID] = continuation
                        id.withLock { $0 = nextID }
                        state = .pending(waiters: waiters, nextID: nextID + 1)
                        return nil
                    }
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            // The id is read under the state lock: the body registers under it, after checking for cancellation.
            let cancelled: CheckedContinuation<Value, any Error>? = state.withLock { state in
                guard let waiterID = id.withLock({ $0 }), case .pending(var waiters, let nextID) = state else {
                    return nil
                }
                let continuation = waiters.removeValue(forKey: waiterID)
                state = .pending(waiters: waiters, nextID: nextID)
                return continuation
            }
            cancelled?.resume(throwing: CancellationError())
        }
    }

    private func complete(_ result: Result<Value, any Error>) {
        let waiters: [CheckedContinuation<Value, any Error>] = state.withLock { state in
            guard case .pending(let waiters, _) = state else { return [] }
            state = .done(result)
            return Array(waiters.values)
        }
        for waiter in waiters { waiter.resume(with: result) }
    }
}
