import Dispatch
import Logging
import RecordStore
import ServiceLifecycle

/// Writes the store's state file debounced (only after a change, at most once per `interval`, and further apart
/// when writes are slow) and once more at shutdown, and ends a warm start once its grace is over (the store's
/// `WarmStart` decides when, for the restore at start and for a reload's resync alike).
///
/// Encoding a large state is real work (about a second for 100,000 records across 20 members): it runs on its
/// own queue, never on the cooperative pool the controller and admin API need, and after a write that took `d`
/// the next waits at least `pauseFactor × d`, so saving never takes more than a small share of one core
/// however fast records change (unless half of the serial reservation is used up: then it writes at once).
final class StatePersister: Service {
    /// Long enough that a burst of updates is one write, short enough that a crash loses little.
    static let interval: Duration = .milliseconds(250)
    /// Pause after a write, in multiples of how long it took: 10 keeps saving under a tenth of one core.
    static let pauseFactor = 10

    let store: RecordStore
    let logger: Logger
    private let queue = DispatchQueue(label: "mcdns.state-persister")

    init(store: RecordStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            var pause = Self.interval
            while !Task.isCancelled {
                // The pause ends early when half of the serial reservation is used up: renewing it here, off the
                // compile path, is what keeps a publish from ever writing the state itself.
                // At least one interval always passes: while the reservation cannot be renewed (nothing published
                // yet, or the state directory failing) this must not turn into a loop that never sleeps.
                let resumeAt = ContinuousClock.now + pause
                repeat {
                    try? await Task.sleep(for: min(Self.interval, max(.zero, resumeAt - ContinuousClock.now)))
                } while !Task.isCancelled && ContinuousClock.now < resumeAt && !self.store.reservationRunningLow
                let writeStarted = ContinuousClock.now
                let wrote = await self.persistOffPool()
                pause = wrote ? max(Self.interval, (ContinuousClock.now - writeStarted) * Self.pauseFactor) : Self.interval
                // Takes the store's compile lock (and compiles when the grace is over): on the queue, as the write.
                await self.offPool { [store = self.store] in store.endWarmStart(ifOverdueAt: .now) }
            }
        }
        // The last word at shutdown: what is served now is what a restart starts from.
        if await persistOffPool() { logger.info("state saved at shutdown") }
    }

    /// `RecordStore.persistIfChanged` on the persister's queue.
    private func persistOffPool() async -> Bool {
        await offPool { [store] in store.persistIfChanged() }
    }

    /// Runs `body` on the persister's queue, off the cooperative pool.
    @discardableResult
    private func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async { continuation.resume(returning: body()) }
        }
    }
}
