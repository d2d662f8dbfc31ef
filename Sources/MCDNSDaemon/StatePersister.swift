import Logging
import RecordStore
import ServiceLifecycle

/// Writes the store's state file debounced (at most once per `interval`, only after a change) and once more at
/// shutdown, and ends a warm start that the members did not complete within the stale grace period.
final class StatePersister: Service {
    /// Long enough that a burst of updates is one write, short enough that a crash loses little.
    static let interval: Duration = .milliseconds(250)

    let store: RecordStore
    let warmStartLimit: Duration
    let logger: Logger

    init(store: RecordStore, warmStartLimit: Duration, logger: Logger) {
        self.store = store
        self.warmStartLimit = warmStartLimit
        self.logger = logger
    }

    func run() async throws {
        let started = ContinuousClock.now
        let initiallyWarm = store.liveState()?.warmStart == true
        await cancelWhenGracefulShutdown {
            var warm = initiallyWarm
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.interval)
                self.store.persistIfChanged()
                if warm, ContinuousClock.now - started >= self.warmStartLimit {
                    warm = false
                    self.store.endWarmStart()
                }
            }
        }
        // The last word at shutdown: what is served now is what a restart starts from.
        if store.persistIfChanged() { logger.info("state saved at shutdown") }
    }
}
