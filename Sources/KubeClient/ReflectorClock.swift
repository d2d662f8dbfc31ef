/// The time a `Reflector` measures and waits on: `ContinuousClock` in production; tests pass a manual clock, so a
/// silent watch's `silenceTimeout` or a backoff passes when the test says, not after waiting for it.
public struct ReflectorClock: Sendable {
    /// Time since an arbitrary origin fixed when the clock was made.
    let now: @Sendable () -> Duration
    let sleep: @Sendable (Duration) async throws -> Void

    public init<C: Clock>(_ clock: C) where C.Duration == Duration {
        let origin = clock.now
        self.now = { origin.duration(to: clock.now) }
        self.sleep = { duration in try await clock.sleep(until: clock.now.advanced(by: duration), tolerance: nil) }
    }

    public static var continuous: ReflectorClock { ReflectorClock(ContinuousClock()) }
}
