import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The listener's refusals: every one is counted by reason (`TunnelServer.refusalCounts()`, the daemon's
/// `mcdns_tunnel_refusals_total{reason}`), but at most `burst` of them are logged per `window`; the next line
/// logged after a quiet spell says how many were left out. A flood of bad connections (1,041 lines in 30 s before)
/// costs a few lines, not one each.
final class TunnelRefusalLog: Sendable {
    private struct State {
        var windowStart: NIODeadline
        var logged = 0
        var suppressed = 0
        var counts: [String: Int] = [:]
    }

    private let state: NIOLockedValueBox<State>
    private let burst: Int
    private let window: TimeAmount
    private let logger: Logger

    init(logger: Logger, burst: Int = 10, window: TimeAmount = .seconds(10)) {
        self.logger = logger
        self.burst = burst
        self.window = window
        self.state = NIOLockedValueBox(State(windowStart: .now()))
    }

    /// Counts a refusal with `reason` (the metric label) and logs `message` unless this window's lines are spent.
    func refused(
        _ reason: String,
        level: Logger.Level,
        _ message: @autoclosure () -> String,
        logger: Logger? = nil,
        metadata: Logger.Metadata = [:]
    ) {
        let (log, suppressed) = state.withLockedValue { state -> (Bool, Int) in
            state.counts[reason, default: 0] += 1
            let now = NIODeadline.now()
            if now - state.windowStart >= window {
                state.windowStart = now
                state.logged = 0
            }
            guard state.logged < burst else {
                state.suppressed += 1
                return (false, 0)
            }
            state.logged += 1
            defer { state.suppressed = 0 }
            return (true, state.suppressed)
        }
        guard log else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["tunnel.refusalsNotLogged"] = "\(suppressed)" }
        (logger ?? self.logger).log(level: level, "\(message())", metadata: metadata)
    }

    var counts: [String: Int] { state.withLockedValue { $0.counts } }
}
