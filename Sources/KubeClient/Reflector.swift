import Foundation
public import Logging
public import CoreMetrics
import Metrics
import NIOCore
import Synchronization

/// Keeps one kind of one member current with client-go's list-and-watch semantics, over any `KubeConnector`.
///
/// - Lists in pages (`limit`/`continue`); a continue token that expired half-way gives one full list. The first
///   list is a consistent read; later lists ask for at least the last version seen (`resourceVersionMatch=
///   NotOlderThan`), so a relist never moves back in time; if that version is gone (410), a consistent read.
/// - Watches from the list's version with bookmarks and a random `timeoutSeconds`; a normal close re-watches from
///   the last version without listing; 410 (status or ERROR event) relists and the consumer applies the diff.
/// - Too large resource version, 429 (Retry-After honoured), 5xx, 401/403, connection failures, silent
///   connections, watches that end at once: back off (doubling, jitter, reset after a healthy spell) and
///   re-watch from the same version. `down` is reported once per outage, `resumed` when a watch runs again.
/// - A watch resumes without a relist only while the server is provably the one whose history the version comes
///   from (DESIGN §6): each list records the member's identity (the `kube-system` Namespace's uid); after any
///   failure, a watch that ended without a single event, or a new connection (`KubeReconnectingConnector`), the
///   identity is read again and the server's current version (a `limit=1` list) compared with ours. A changed or
///   unreadable identity, a server behind our version (an etcd restored from backup, another cluster behind the
///   same tunnel name: there a watch from our version is answered 200 and then nothing), or versions that are
///   not numbers all relist with a consistent read. A list refused with "too large resource version" does too.
/// - Versions are compared as numbers only in that check, which is what etcd-backed servers allow (an etcd
///   revision); otherwise they are opaque strings compared for equality.
public final class Reflector: Sendable {
    public let kind: KubeObjectKind
    public let namespace: String?
    public let statistics = ReflectorStatistics()
    private let connector: any KubeConnector
    private let configuration: ReflectorConfiguration
    private let limiter: ListLimiter?
    private let logger: Logger
    private let cluster: String
    private let counters = Mutex<[String: Counter]>([:])
    private let clock: ReflectorClock
    /// Whether the "identity unreadable" warning was logged (once per reflector).
    private let identityWarned = Mutex(false)
    /// Where counters are made; nil is the process-wide backend the daemon bootstraps (tests pass TestMetrics).
    private let metrics: (any MetricsFactory)?

    public init(
        kind: KubeObjectKind,
        namespace: String? = nil,
        connector: any KubeConnector,
        configuration: ReflectorConfiguration = ReflectorConfiguration(),
        limiter: ListLimiter? = nil,
        cluster: String,
        metrics: (any MetricsFactory)? = nil,
        clock: ReflectorClock = .continuous,
        logger: Logger
    ) {
        self.kind = kind
        self.clock = clock
        self.metrics = metrics
        self.namespace = namespace
        self.connector = connector
        self.configuration = configuration
        self.limiter = limiter
        self.cluster = cluster
        var logger = logger
        logger[metadataKey: "cluster.id"] = "\(cluster)"
        logger[metadataKey: "k8s.resource"] = "\(kind.resource)"
        self.logger = logger
    }

    /// Why one list or watch attempt ended.
    private enum Outcome {
        /// The server ended the watch normally.
        case closed(events: Int, elapsed: Duration)
        /// 410: the version is gone; list again.
        case expired(String)
        /// The resource is not served (404); for ServiceExport that means the CRD is not installed.
        case notFound
        /// Back off and retry from the same version. `reason` is the metric label.
        case failure(reason: String, detail: String, retryAfter: Duration?)
        /// A watch line over the size cap: its change is lost, so list again.
        case oversized(Int)
    }

    /// Who answered: the `kube-system` Namespace's uid, or `unknown` when the server would not say (403, 404, no
    /// uid), in which case no resume can be proved safe.
    private enum Identity: Equatable {
        case uid(String)
        case unknown
    }

    private struct State {
        var resourceVersion: String?
        /// The last list failed with 410 at our version: the next list is a consistent read (client-go's
        /// `isLastSyncResourceVersionUnavailable`).
        var versionUnavailable = false
        var needsList = true
        var listReason = "initial"
        var down = false
        var backoff: Duration
        var lastFailure: Duration?
        var notFoundReported = false
        /// The connector's connection epoch when the last attempt started (`KubeReconnectingConnector` only): a
        /// newer connection ends the backoff after a failure at once.
        var epoch: UInt64?
        /// The identity recorded with the last list (nil before the first).
        var identity: Identity?
        /// The connection epoch at which the server was last found to be the one our version comes from.
        var checkedEpoch: UInt64?
        /// Something happened (a failure, a watch without events) after which the server must be checked before
        /// a watch resumes from our version.
        var needsCheck = false
    }

    /// Runs until cancelled, delivering events to `handler` in order (each awaited before the next).
    public func run(_ handler: @escaping @Sendable (ReflectorEvent) async -> Void) async throws {
        var state = State(backoff: configuration.initialBackoff)
        while true {
            try Task.checkCancellation()
            if state.needsList {
                let outcome = await listOnce(&state, handler: handler)
                try Task.checkCancellation()
                switch outcome {
                case nil:
                    state.needsList = false
                    if state.down {
                        state.down = false
                        statistics.update { $0.condition = nil }
                    }
                    continue
                case .notFound:
                    // Not installed: the set is empty until it appears; look again now and then, quietly.
                    if !state.notFoundReported {
                        state.notFoundReported = true
                        logger.info("\(kind.resource) (\(kind.apiVersion)) is not served by this API server; treating it as empty")
                    }
                    await handler(.replace([]))
                    if state.down {
                        state.down = false
                        statistics.update { $0.condition = nil }
                    }
                    try await clock.sleep(configuration.missingResourceRetry)
                    continue
                case .expired:
                    continue
                case .some(let failure):
                    try await fail(failure, state: &state, handler: handler)
                    continue
                }
            }
            if state.needsCheck || connectionChanged(since: state.checkedEpoch) {
                let verdict = await checkResume(&state)
                try Task.checkCancellation()
                switch verdict {
                case nil:
                    break
                case .failure?:
                    try await fail(verdict!, state: &state, handler: handler)
                    continue
                case .some:
                    continue
                }
            }
            let outcome = await watchOnce(&state, handler: handler)
            // A watch ended by our own cancellation is not a restart.
            try Task.checkCancellation()
            switch outcome {
            case .closed(let events, let elapsed):
                // Not even a bookmark: the server may not have our version (it waits, silent, for a version it
                // has not reached), so it is checked before the next watch.
                if events == 0 { state.needsCheck = true }
                if events == 0 && elapsed < configuration.minimumWatchDuration {
                    try await fail(.failure(reason: "closedEmpty", detail: "watch closed at once without events", retryAfter: nil),
                                   state: &state, handler: handler)
                } else {
                    restart("closed")
                }
            case .expired(let detail):
                restart("expired")
                logger.debug("watch version expired; listing again", metadata: ["detail": "\(detail)"])
                state.needsList = true
                state.listReason = "expired"
            case .oversized(let size):
                restart("oversizedEvent")
                logger.warning("a watch event of \(size) bytes exceeds the cap of \(configuration.maximumEventSize); listing again")
                state.needsList = true
                state.listReason = "oversizedEvent"
            case .notFound:
                restart("notFound")
                state.needsList = true
                state.listReason = "notFound"
            case .failure:
                try await fail(outcome, state: &state, handler: handler)
            }
        }
    }

    // MARK: - Backoff

    private func fail(_ outcome: Outcome, state: inout State, handler: @Sendable (ReflectorEvent) async -> Void) async throws {
        guard case .failure(let reason, let detail, let retryAfter) = outcome else { return }
        restart(reason)
        // The connection (or the server behind it) may have changed meanwhile: check before resuming.
        state.needsCheck = true
        let now = clock.now()
        if let last = state.lastFailure, now - last > configuration.backoffResetAfter {
            state.backoff = configuration.initialBackoff
        }
        state.lastFailure = now
        var delay = jittered(state.backoff)
        if let retryAfter, retryAfter > delay { delay = retryAfter }
        state.backoff = min(state.backoff * 2, configuration.maximumBackoff)
        let condition = "\(reason): \(detail)"
        statistics.update {
            $0.backoffs.append(delay)
            if $0.backoffs.count > 64 { $0.backoffs.removeFirst($0.backoffs.count - 64) }
            $0.condition = condition
        }
        if !state.down {
            state.down = true
            logger.info("watch down; backing off", metadata: ["reason": "\(condition)"])
            await handler(.down(reason: condition))
        } else {
            logger.debug("still failing; backing off", metadata: ["reason": "\(condition)", "delay": "\(delay)"])
        }
        try await backOff(for: delay, epoch: state.epoch)
    }

    /// Sleeps `delay`, or less when the connector reconnects meanwhile (a new tunnel session): the failure was
    /// the old connection's, so the new one is tried at once.
    private func backOff(for delay: Duration, epoch: UInt64?) async throws {
        guard let epoch, let reconnecting = connector as? any KubeReconnectingConnector else {
            try await clock.sleep(delay)
            return
        }
        let clock = self.clock
        // nil: that child ended without a verdict (cancelled, or the connector cannot tell): the other decides.
        let woke = await withTaskGroup(of: Bool?.self) { group in
            group.addTask { (try? await clock.sleep(delay)) == nil ? nil : false }
            group.addTask { (try? await reconnecting.waitForConnection(newerThan: epoch)) == nil ? nil : true }
            var woke = false
            for await result in group {
                if let result {
                    woke = result
                    break
                }
            }
            group.cancelAll()
            return woke
        }
        try Task.checkCancellation()
        if woke {
            statistics.update { $0.reconnectWakes += 1 }
            logger.info(
                "the connection to the member is back; retrying now instead of after the backoff",
                metadata: ["backoff": "\(delay)"]
            )
        }
    }

    // MARK: - Resume check

    /// Whether the connector has had a new connection since `epoch` (always false for one that cannot tell).
    private func connectionChanged(since epoch: UInt64?) -> Bool {
        guard let current = (connector as? any KubeReconnectingConnector)?.connectionEpoch() else { return false }
        return current != epoch
    }

    /// Decides whether a watch may resume from our version on the server now answering: nil when it may; an
    /// `.expired` outcome when it must relist (the state is set for a consistent read); a `.failure` when the
    /// check itself failed (back off and check again).
    private func checkResume(_ state: inout State) async -> Outcome? {
        let epoch = (connector as? any KubeReconnectingConnector)?.connectionEpoch()
        statistics.update { $0.resumeChecks += 1 }
        let identity: Identity
        switch await readIdentity() {
        case .success(let found): identity = found
        case .failure(let failure): return failure.outcome
        }
        let current: String
        switch await currentVersion() {
        case .success(let version): current = version
        case .failure(let failure):
            guard case .failure = failure.outcome else {
                // 404, 410, an oversized answer: not a server we can resume on; list again.
                return relist(&state, reason: "resumeCheckFailed", detail: "\(failure.outcome)")
            }
            return failure.outcome
        }
        let ours = state.resourceVersion ?? ""
        switch (state.identity, identity) {
        case (.uid(let before)?, .uid(let now)) where before != now:
            return relist(&state, reason: "identityChanged",
                          detail: "kube-system namespace uid \(before) is now \(now): another cluster answers")
        case (.uid?, .uid):
            break
        default:
            return relist(&state, reason: "identityUnknown",
                          detail: "the member's identity (the kube-system namespace uid) cannot be read")
        }
        // etcd revisions are numbers that only grow within one history; anything else cannot be compared.
        guard let mine = UInt64(ours), let theirs = UInt64(current) else {
            return relist(&state, reason: "opaqueVersion",
                          detail: "resourceVersions \"\(ours)\" and \"\(current)\" are not numbers that can be compared")
        }
        if theirs < mine {
            return relist(&state, reason: "serverBehind",
                          detail: "the server is at resourceVersion \(theirs), behind ours (\(mine)): its history is not the one we followed")
        }
        state.needsCheck = false
        state.checkedEpoch = epoch
        return nil
    }

    private func relist(_ state: inout State, reason: String, detail: String) -> Outcome {
        logger.info("the server may not hold our version's history; listing again instead of resuming the watch",
                    metadata: ["reason": "\(reason)", "detail": "\(detail)"])
        state.needsList = true
        state.listReason = reason
        // Our version may not exist there (or mean something else): a consistent read, not NotOlderThan.
        state.versionUnavailable = true
        return .expired(detail)
    }

    /// The member's identity: the `kube-system` Namespace's uid. A refusal (403: RBAC without `get` on it; 404)
    /// or an answer without a uid gives `unknown`; transport failures and 401/429/5xx are failures.
    private func readIdentity() async -> Result<Identity, ListFailure> {
        let response: KubeResponse, body: [UInt8]
        switch await fetch("/api/v1/namespaces/kube-system", limit: 1 << 20, reading: "kube-system namespace") {
        case .success(let fetched): (response, body) = fetched
        case .failure(let failure): return .failure(failure)
        }
        switch response.status {
        case 200:
            if let fields = try? KubeJSON.fields(body), case .object(let metadata)? = fields["metadata"]?.content,
                case .string(let uid)? = metadata["uid"]?.content, !uid.isEmpty
            {
                return .success(.uid(uid))
            }
            warnIdentity("the kube-system namespace came without metadata.uid")
            return .success(.unknown)
        case 403, 404:
            warnIdentity("reading namespaces/kube-system answered HTTP \(response.status)")
            return .success(.unknown)
        default:
            let outcome = classify(response, body)
            if case .failure = outcome { return .failure(ListFailure(outcome: outcome)) }
            warnIdentity("reading namespaces/kube-system answered HTTP \(response.status)")
            return .success(.unknown)
        }
    }

    private func warnIdentity(_ detail: String) {
        guard identityWarned.withLock({ warned in defer { warned = true }; return !warned }) else { return }
        logger.warning(
            "cannot tell which cluster answers, so every reconnect relists instead of resuming; grant get on namespaces/kube-system (deploy/member/readonly/rbac.yaml)",
            metadata: ["detail": "\(detail)"]
        )
    }

    /// The server's current resourceVersion: the version of a consistent one-item list of our kind.
    private func currentVersion() async -> Result<String, ListFailure> {
        let path = kind.collectionPath(namespace: namespace) + "?limit=1"
        let response: KubeResponse, body: [UInt8]
        switch await fetch(path, limit: configuration.maximumListSize, reading: "version check") {
        case .success(let fetched): (response, body) = fetched
        case .failure(let failure): return .failure(failure)
        }
        guard response.status == 200 else { return .failure(ListFailure(outcome: classify(response, body))) }
        guard let fields = try? KubeJSON.fields(body), case .object(let metadata)? = fields["metadata"]?.content,
            case .string(let version)? = metadata["resourceVersion"]?.content, !version.isEmpty
        else {
            return .failure(ListFailure(outcome: .failure(reason: "invalidResponse", detail: "version check: a list without metadata.resourceVersion", retryAfter: nil)))
        }
        return .success(version)
    }

    private func jittered(_ base: Duration) -> Duration {
        // ±20%: members that failed together do not retry together.
        let factor = Double.random(in: 0.8...1.2)
        return min(base * factor, configuration.maximumBackoff * 1.2)
    }

    private func restart(_ reason: String) {
        statistics.update { $0.watchRestarts[reason, default: 0] += 1 }
        counter("mcdns_watch_restarts_total", reason).increment()
    }

    private func counter(_ label: String, _ reason: String) -> Counter {
        counters.withLock { counters in
            let key = label + "/" + reason
            if let counter = counters[key] { return counter }
            let dimensions = [("cluster", cluster), ("resource", kind.resource), ("reason", reason)]
            let counter = metrics.map { Counter(label: label, dimensions: dimensions, factory: $0) }
                ?? Counter(label: label, dimensions: dimensions)
            counters[key] = counter
            return counter
        }
    }

    // MARK: - List

    /// One complete list (paged), delivered as `replace`; nil on success, else why it failed.
    private func listOnce(_ state: inout State, handler: @Sendable (ReflectorEvent) async -> Void) async -> Outcome? {
        let requested: String? =
            state.versionUnavailable || state.resourceVersion == nil ? nil : state.resourceVersion
        let reason = state.listReason
        let epoch = (connector as? any KubeReconnectingConnector)?.connectionEpoch()
        state.epoch = epoch
        // Who answers, read before the list: the identity the listed version belongs to.
        let identity: Identity
        switch await readIdentity() {
        case .success(let found): identity = found
        case .failure(let failure): return failure.outcome
        }
        let result: Result<(objects: [KubeObject], version: String, reason: String), ListFailure>
        if let limiter {
            do {
                result = try await limiter.run { await self.list(from: requested, reason: reason) }
            } catch {
                return .failure(reason: "cancelled", detail: "\(error)", retryAfter: nil)
            }
        } else {
            result = await list(from: requested, reason: reason)
        }
        switch result {
        case .success(let listed):
            state.resourceVersion = listed.version
            state.versionUnavailable = false
            state.listReason = "relist"
            state.identity = identity
            state.checkedEpoch = epoch
            // A new connection during the list: the identity and the list may come from different servers.
            state.needsCheck = connectionChanged(since: epoch)
            statistics.update {
                $0.lists[listed.reason, default: 0] += 1
                $0.resourceVersion = listed.version
            }
            counter("mcdns_relists_total", listed.reason).increment()
            await handler(.replace(listed.objects))
            return nil
        case .failure(let failure):
            switch failure.outcome {
            case .expired(let detail):
                guard requested != nil else {
                    // Even a consistent read answers 410: something is wrong on the server; back off.
                    return .failure(reason: "expired", detail: detail, retryAfter: nil)
                }
                // Our version is compacted away: a consistent read next, at once (client-go does the same).
                state.versionUnavailable = true
                return .expired(detail)
            case .failure(reason: "tooLargeResourceVersion", let detail, _) where requested != nil:
                // The server has not reached our version, which may never come (another history): a consistent
                // read next, at once, as client-go's `isLastSyncResourceVersionUnavailable` does.
                state.versionUnavailable = true
                return .expired(detail)
            default:
                return failure.outcome
            }
        }
    }

    private struct ListFailure: Error {
        var outcome: Outcome
    }

    private func list(from version: String?, reason: String) async -> Result<(objects: [KubeObject], version: String, reason: String), ListFailure> {
        var objects: [KubeObject] = []
        var token: String? = nil
        var paged = true
        var reason = reason
        let base = kind.collectionPath(namespace: namespace)
        while true {
            var query: [String] = []
            if paged { query.append("limit=\(configuration.pageSize)") }
            if let token {
                query.append("continue=\(Self.escape(token))")
            } else if let version {
                query.append("resourceVersion=\(Self.escape(version))")
                query.append("resourceVersionMatch=NotOlderThan")
            }
            let path = query.isEmpty ? base : base + "?" + query.joined(separator: "&")
            statistics.update { $0.listRequests += 1 }
            let response: KubeResponse, body: [UInt8]
            switch await fetch(path, limit: configuration.maximumListSize, reading: "list body") {
            case .success(let fetched): (response, body) = fetched
            case .failure(let failure): return .failure(failure)
            }
            guard response.status == 200 else {
                if response.status == 410 && token != nil {
                    // The continue token expired half-way: one full list, no paging (client-go's pager does this).
                    logger.info("list continue token expired; listing everything at once")
                    objects.removeAll()
                    token = nil
                    paged = false
                    reason = "continueExpired"
                    continue
                }
                return .failure(ListFailure(outcome: classify(response, body)))
            }
            let page: [String: KubeValue]
            do {
                page = try KubeJSON.fields(body)
            } catch {
                return .failure(ListFailure(outcome: .failure(reason: "invalidResponse", detail: "list: \(error)", retryAfter: nil)))
            }
            if case .array(let items)? = page["items"]?.content {
                for (index, item) in items.enumerated() {
                    guard case .object(let fields) = item.content else { continue }
                    do {
                        if let object = try KubeJSON.decode(fields: fields, as: kind) { objects.append(object) }
                    } catch {
                        skip("list item \(index): \(error)")
                    }
                }
            }
            var metadata: [String: KubeValue] = [:]
            if case .object(let fields)? = page["metadata"]?.content { metadata = fields }
            if case .string(let next)? = metadata["continue"]?.content, !next.isEmpty {
                token = next
                continue
            }
            guard case .string(let listVersion)? = metadata["resourceVersion"]?.content, !listVersion.isEmpty else {
                return .failure(ListFailure(outcome: .failure(reason: "invalidResponse", detail: "list without metadata.resourceVersion", retryAfter: nil)))
            }
            return .success((objects, listVersion, reason))
        }
    }

    private func skip(_ detail: String) {
        statistics.update { $0.skippedEvents += 1 }
        logger.warning("skipping an object that does not decode", metadata: ["detail": "\(detail)"])
    }

    // MARK: - Watch

    private func watchOnce(_ state: inout State, handler: @escaping @Sendable (ReflectorEvent) async -> Void) async -> Outcome {
        let version = state.resourceVersion ?? ""
        let seconds = Int.random(in: configuration.watchTimeoutSeconds)
        let path = kind.collectionPath(namespace: namespace)
            + "?watch=1&allowWatchBookmarks=true&resourceVersion=\(Self.escape(version))&timeoutSeconds=\(seconds)"
        statistics.update { $0.watches += 1 }
        state.epoch = (connector as? any KubeReconnectingConnector)?.connectionEpoch()
        let clock = self.clock
        let started = clock.now()
        let response: KubeResponse
        do {
            // The server closes at timeoutSeconds; the transport's own limit only backs that up.
            response = try await connector.execute(KubeRequest(path: path, timeout: .seconds(seconds + 60)))
        } catch is CancellationError {
            return .failure(reason: "cancelled", detail: "cancelled", retryAfter: nil)
        } catch {
            return .failure(reason: "connectionError", detail: "\(error)", retryAfter: nil)
        }
        guard response.status == 200 else {
            return classify(response, (try? await Self.collect(response.body, limit: 1 << 20)) ?? [])
        }
        // After an outage, a 200 alone is not recovery (a server may close at once): the watch counts as resumed
        // at its first event or once it has stayed open for `minimumWatchDuration`.
        let resume = ResumeSignal(pending: state.down)
        let fireResume: @Sendable () async -> Void = { [statistics, logger] in
            guard resume.take() else { return }
            statistics.update { $0.condition = nil }
            logger.info("watch resumed", metadata: ["k8s.resourceVersion": "\(version)"])
            await handler(.resumed)
        }

        let silence = configuration.silenceTimeout
        let settle = configuration.minimumWatchDuration
        let reader = WatchReader(kind: kind, maximumEventSize: configuration.maximumEventSize, version: version,
                                 clock: clock)
        let outcome: Outcome = await withTaskGroup(of: Outcome?.self) { group in
            group.addTask {
                await reader.read(response.body, handler: handler, reflector: self,
                                  firstFrame: fireResume)
            }
            group.addTask {
                // The silent-connection detector: a connection that stops delivering anything (no event, no
                // bookmark, no FIN) would otherwise hang this watch forever.
                let step = min(silence / 4, settle)
                while !Task.isCancelled {
                    try? await clock.sleep(step)
                    if Task.isCancelled { return nil }
                    if clock.now() - started >= settle { await fireResume() }
                    let idle = clock.now() - reader.lastActivity
                    if idle >= silence {
                        return .failure(reason: "silent", detail: "no data for \(idle)", retryAfter: nil)
                    }
                }
                return nil
            }
            var result: Outcome = .closed(events: 0, elapsed: .zero)
            for await candidate in group {
                if let candidate {
                    result = candidate
                    break
                }
            }
            group.cancelAll()
            return result
        }
        state.resourceVersion = reader.version
        statistics.update { $0.resourceVersion = reader.version }
        if resume.fired { state.down = false }
        if case .closed(let events, _) = outcome {
            return .closed(events: events, elapsed: clock.now() - started)
        }
        return outcome
    }

    /// Reads one watch body; keeps the version of the last event so a restart resumes from it.
    private final class WatchReader: Sendable {
        let kind: KubeObjectKind
        let maximumEventSize: Int
        private let state: Mutex<String>
        private let clock: ReflectorClock
        private let activity: Mutex<Duration>

        init(kind: KubeObjectKind, maximumEventSize: Int, version: String, clock: ReflectorClock) {
            self.kind = kind
            self.maximumEventSize = maximumEventSize
            self.state = Mutex(version)
            self.clock = clock
            self.activity = Mutex(clock.now())
        }

        var version: String { state.withLock { $0 } }
        /// When the last bytes arrived.
        var lastActivity: Duration { activity.withLock { $0 } }

        func read(
            _ body: AsyncThrowingStream<ByteBuffer, any Error>,
            handler: @Sendable (ReflectorEvent) async -> Void,
            reflector: Reflector,
            firstFrame: @Sendable () async -> Void
        ) async -> Outcome {
            var framer = WatchEventFramer(maximumEventSize: maximumEventSize)
            var events = 0
            do {
                for try await chunk in body {
                    let now = clock.now()
                    activity.withLock { $0 = now }  // for the silence detector
                    for frame in framer.append(chunk) {
                        if events == 0 { await firstFrame() }
                        if let outcome = await handle(frame, events: &events, handler: handler, reflector: reflector) {
                            return outcome
                        }
                    }
                }
            } catch is CancellationError {
                return .failure(reason: "cancelled", detail: "cancelled", retryAfter: nil)
            } catch {
                return .failure(reason: "connectionError", detail: "watch stream: \(error)", retryAfter: nil)
            }
            for frame in framer.finish() {
                if let outcome = await handle(frame, events: &events, handler: handler, reflector: reflector) {
                    return outcome
                }
            }
            return .closed(events: events, elapsed: .zero)
        }

        private func handle(
            _ frame: WatchEventFramer.Frame,
            events: inout Int,
            handler: @Sendable (ReflectorEvent) async -> Void,
            reflector: Reflector
        ) async -> Outcome? {
            let line: [UInt8]
            switch frame {
            case .oversized(let size):
                reflector.statistics.update { $0.skippedEvents += 1 }
                return .oversized(size)
            case .line(let bytes):
                line = bytes
            }
            let event: WatchEvent
            do {
                event = try WatchEvent.decode(line: line, kind: kind)
            } catch {
                // Not JSON: the stream cannot be trusted past this point; resume from the last good version.
                reflector.statistics.update { $0.skippedEvents += 1 }
                return .failure(reason: "invalidEvent", detail: "\(error)", retryAfter: nil)
            }
            events += 1
            switch event {
            case .added(let object, let version), .modified(let object, let version):
                await handler(.upsert(object))
                advance(version, reflector)
            case .deleted(let object, let version):
                await handler(.delete(object.ref))
                advance(version, reflector)
            case .bookmark(let version):
                advance(version, reflector)
            case .ignored(_, let version):
                advance(version, reflector)
            case .malformed(let type, let problem, let version):
                reflector.skip("\(type): \(problem)")
                advance(version, reflector)
            case .unknown(let type):
                reflector.statistics.update { $0.skippedEvents += 1 }
                reflector.logger.info("skipping a watch event of unknown type", metadata: ["type": "\(type)"])
            case .error(let status):
                return reflector.classify(status: status.code ?? 500, body: status, headers: nil)
            }
            return nil
        }

        private func advance(_ version: String?, _ reflector: Reflector) {
            guard let version, !version.isEmpty else { return }
            state.withLock { $0 = version }
            reflector.statistics.update { $0.resourceVersion = version }
        }
    }

    /// Whether `resumed` is still owed for this watch; taken once by whichever notices recovery first.
    private final class ResumeSignal: Sendable {
        private let state: Mutex<(pending: Bool, fired: Bool)>

        init(pending: Bool) {
            state = Mutex((pending, false))
        }

        func take() -> Bool {
            state.withLock { state in
                guard state.pending else { return false }
                state = (false, true)
                return true
            }
        }

        var fired: Bool { state.withLock { $0.fired } }
    }

    /// One GET with its whole body (at most `limit` bytes); a transport failure or a body cut short is a
    /// `connectionError`, its detail prefixed with what was being read. Any HTTP status is a success here.
    private func fetch(_ path: String, limit: Int, reading what: String)
        async -> Result<(response: KubeResponse, body: [UInt8]), ListFailure>
    {
        let response: KubeResponse
        do {
            response = try await connector.execute(KubeRequest(path: path))
        } catch {
            return .failure(ListFailure(outcome: .failure(reason: "connectionError", detail: "\(error)", retryAfter: nil)))
        }
        do {
            return .success((response, try await Self.collect(response.body, limit: limit)))
        } catch {
            let outcome = Outcome.failure(reason: "connectionError", detail: "\(what): \(error)", retryAfter: nil)
            return .failure(ListFailure(outcome: outcome))
        }
    }

    /// A response other than 200, read through its Status body when it has one.
    private func classify(_ response: KubeResponse, _ body: [UInt8]) -> Outcome {
        let status = (try? KubeJSON.fields(body)).map { KubeStatus(fields: $0) } ?? KubeStatus(code: response.status)
        return classify(status: response.status, body: status, headers: response)
    }

    /// Maps a failed response (HTTP status or ERROR event) to what to do.
    private func classify(status code: Int, body status: KubeStatus, headers response: KubeResponse?) -> Outcome {
        if status.isTooLargeResourceVersion {
            return .failure(reason: "tooLargeResourceVersion", detail: status.description, retryAfter: retryAfter(status, response))
        }
        if code == 410 || status.isExpired { return .expired(status.description) }
        switch code {
        case 404: return .notFound
        case 401: return .failure(reason: "unauthorized", detail: status.description, retryAfter: nil)
        case 403: return .failure(reason: "forbidden", detail: status.description, retryAfter: nil)
        case 429: return .failure(reason: "tooManyRequests", detail: status.description, retryAfter: retryAfter(status, response))
        case 500...599: return .failure(reason: "serverError", detail: status.description, retryAfter: retryAfter(status, response))
        default: return .failure(reason: "httpError", detail: "HTTP \(code): \(status)", retryAfter: nil)
        }
    }

    private func retryAfter(_ status: KubeStatus, _ response: KubeResponse?) -> Duration? {
        if let header = response?.header("Retry-After"), let seconds = Int(header.trimmingCharacters(in: .whitespaces)) {
            return .seconds(min(max(seconds, 0), 600))
        }
        return status.retryAfterSeconds.map { .seconds(min(max($0, 0), 600)) }
    }

    private static func collect(_ body: AsyncThrowingStream<ByteBuffer, any Error>, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.readableBytes <= limit else {
                throw KubeClientError.protocolViolation("response body larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }

    private static func escape(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
    }
}
