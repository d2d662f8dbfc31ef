import Synchronization

/// Counts of what a reflector did, for tests and diagnostics (the same reasons go to the metrics).
public final class ReflectorStatistics: Sendable {
    public struct Snapshot: Sendable, Equatable {
        /// HTTP list requests (each page counts).
        public var listRequests = 0
        /// Complete lists delivered, by reason (`initial`, `expired`, `continueExpired`, `oversizedEvent`, …).
        public var lists: [String: Int] = [:]
        /// Watches started.
        public var watches = 0
        /// Watch restarts by reason (`closed`, `closedEmpty`, `silent`, `expired`, `tooLargeResourceVersion`,
        /// `tooManyRequests`, `serverError`, `connectionError`, `forbidden`, `unauthorized`, …).
        public var watchRestarts: [String: Int] = [:]
        /// Backoff delays taken, most recent last (bounded).
        public var backoffs: [Duration] = []
        /// Backoffs cut short because the connector reconnected (`KubeReconnectingConnector`: a new tunnel session).
        public var reconnectWakes = 0
        /// Checks that the server still holds our version's history before a watch resumes (DESIGN §6).
        public var resumeChecks = 0
        /// Watch events skipped: unknown types, undecodable objects, oversized lines.
        public var skippedEvents = 0
        /// The current problem, visible while it lasts (`forbidden: …`); nil when healthy.
        public var condition: String?
        /// The version the next watch starts from.
        public var resourceVersion: String?

        public var relistCount: Int { lists.values.reduce(0, +) - (lists["initial"] ?? 0) }
    }

    private let state = Mutex(Snapshot())

    public init() {}

    public var snapshot: Snapshot { state.withLock { $0 } }

    func update(_ body: (inout Snapshot) -> Void) {
        state.withLock { body(&$0) }
    }
}
