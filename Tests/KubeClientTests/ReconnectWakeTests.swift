import KubeClient
import Logging
import NIOCore
import Synchronization
import Testing

/// A reflector backing off over a `KubeReconnectingConnector` retries when a newer connection comes up, and only
/// then: a failure on the same connection (an API server answering 503) is still retried at the backoff's pace.
@Suite struct ReconnectWakeTests {
    /// Lists answer an empty list; every watch answers 503 while `failing`, else stays open and quiet. Its epoch
    /// grows with `reconnect()`, which wakes the waiters for a newer one.
    final class FlakyConnector: KubeReconnectingConnector {
        struct State {
            var epoch: UInt64 = 1
            var failing = true
            var watches = 0
            var waiters: [UInt64: (after: UInt64, continuation: CheckedContinuation<Void, any Error>)] = [:]
            var nextWaiter: UInt64 = 0
        }

        let state = Mutex(State())

        func execute(_ request: KubeRequest) async throws -> KubeResponse {
            let failing = state.withLock { state in
                if request.path.contains("watch=1") { state.watches += 1 }
                return state.failing && request.path.contains("watch=1")
            }
            if request.path == "/api/v1/namespaces/kube-system" {
                // The same cluster on every connection: its identity does not change.
                return Self.response(
                    200, #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"kube-system","uid":"flaky-uid"}}"#
                )
            }
            if !request.path.contains("watch=1") {
                return Self.response(
                    200,
                    #"{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"7"},"items":[]}"#
                )
            }
            if failing {
                return Self.response(503, #"{"kind":"Status","apiVersion":"v1","status":"Failure","code":503}"#)
            }
            return KubeResponse(status: 200, headers: [], body: AsyncThrowingStream { _ in })
        }

        static func response(_ status: Int, _ body: String) -> KubeResponse {
            KubeResponse(
                status: status,
                headers: [],
                body: AsyncThrowingStream { continuation in
                    continuation.yield(ByteBuffer(string: body))
                    continuation.finish()
                }
            )
        }

        func connectionEpoch() -> UInt64 { state.withLock { $0.epoch } }

        func waitForConnection(newerThan epoch: UInt64) async throws {
            let id = state.withLock { state in
                state.nextWaiter += 1
                return state.nextWaiter
            }
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    let ready = state.withLock { state -> Bool in
                        if state.epoch > epoch { return true }
                        state.waiters[id] = (epoch, continuation)
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(
                    throwing: CancellationError()
                )
            }
        }

        /// A new connection: the watches work again and every waiter for an older epoch wakes.
        func reconnect() {
            let woken = state.withLock { state in
                state.epoch += 1
                state.failing = false
                let woken = state.waiters.filter { $0.value.after < state.epoch }
                for id in woken.keys { state.waiters.removeValue(forKey: id) }
                return woken.values.map(\.continuation)
            }
            for continuation in woken { continuation.resume() }
        }

        var watches: Int { state.withLock { $0.watches } }
    }

    @Test func aNewerConnectionEndsTheBackoffAndTheSameConnectionDoesNot() async throws {
        let connector = FlakyConnector()
        var configuration = ReflectorConfiguration()
        configuration.initialBackoff = .seconds(30)
        configuration.maximumBackoff = .seconds(60)
        let reflector = Reflector(
            kind: .service,
            connector: connector,
            configuration: configuration,
            cluster: "flaky",
            logger: Logger(label: "test")
        )
        let resumed = Mutex(false)
        let task = Task {
            try? await reflector.run { event in
                if case .resumed = event { resumed.withLock { $0 = true } }
            }
        }
        defer { task.cancel() }
        // The first watch fails with 503 on the current connection: a backoff of at least 24 s starts.
        #expect(await Self.eventually { reflector.statistics.snapshot.backoffs.count == 1 })
        #expect(reflector.statistics.snapshot.backoffs[0] >= .seconds(24))
        // Same connection: nothing wakes it (a short look; the backoff itself is 24 s or more).
        try await Task.sleep(for: .milliseconds(300))
        #expect(connector.watches == 1)
        #expect(reflector.statistics.snapshot.reconnectWakes == 0)
        // A newer connection: the reflector retries now, the watch runs, the reflector reports it resumed.
        connector.reconnect()
        #expect(await Self.eventually { connector.watches == 2 })
        #expect(await Self.eventually { resumed.withLock { $0 } })
        #expect(reflector.statistics.snapshot.reconnectWakes == 1)
        #expect(reflector.statistics.snapshot.lists == ["initial": 1])
        task.cancel()
        await task.value
    }

    static func eventually(timeout: Duration = .seconds(10), _ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
