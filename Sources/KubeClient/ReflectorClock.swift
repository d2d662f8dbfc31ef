/// The time a `Reflector` (and the host cluster's `LeaderElector` and `StatusWriter`) measures and waits on:
/// `ContinuousClock` in production; tests pass a manual clock, so a silent watch's `silenceTimeout`, a backoff, a
/// lease's expiry or a resync period passes when the test says, not after waiting for it.
public struct ReflectorClock: Sendable {
    /// Time since an arbitrary origin fixed when the clock was made.
    public let now: @Sendable () -> Duration
    /// Waits `duration` on the clock; throws `CancellationError` when the task is cancelled.
    public let sleep: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        self.now = { origin.duration(to: clock.now) }
        self.sleep = { duration in try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil) }
    }

    public static var continuous: ReflectorClock { ReflectorClock(ContinuousClock()) }
}
