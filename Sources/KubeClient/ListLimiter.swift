/// Caps how many lists run at once across members, so twenty members restarting together do not list all at
/// once (each waits a random jitter first, then for a free slot). Shared by every reflector of the daemon.
public actor ListLimiter {
    public let limit: Int
    public let jitter: Duration
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// The most lists seen running at once (tests assert it never passes `limit`).
    public private(set) var highWater = 0

    public init(limit: Int, jitter: Duration = .milliseconds(100)) {
        precondition(limit > 0, "a list limiter needs at least one slot")
        self.limit = limit
        self.jitter = jitter
    }

    /// Runs `body` once a slot is free.
    public nonisolated func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if jitter > .zero {
            let spread = Int64(jitter.components.seconds) * 1_000_000_000 + jitter.components.attoseconds / 1_000_000_000
            try await Task.sleep(for: .nanoseconds(Int64.random(in: 0...max(spread, 1))))
        }
        await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }

    private func acquire() async {
        if running < limit {
            running += 1
            highWater = max(highWater, running)
            return
        }
        await withCheckedContinuation { waiting.append($0) }
        // The releasing side handed its slot over: `running` already counts this caller.
    }

    private func release() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }
}
