import Foundation
public import KubeClient
public import Logging
public import ServiceLifecycle
import Synchronization

/// Leader election on a `coordination.k8s.io/v1` Lease, as client-go's `leaderelection` package does it.
///
/// - A replica takes the Lease only when it is free (no holder) or expired: unchanged for `leaseDuration`
///   measured on this replica's own monotonic clock from when it last saw the Lease change, so clock skew
///   between machines does not matter.
/// - Every write carries the resourceVersion read just before, so of two replicas racing for one Lease exactly
///   one succeeds; the other gets 409 Conflict and stays a follower.
/// - The leader renews every `retryPeriod`; when it could not renew for `renewDeadline` it stops leading at once
///   (before any follower may take over at `leaseDuration`). `isLeader()` checks that deadline on every call, so
///   a leader cut off from the API server stops writing even between renewal attempts.
/// - On shutdown the leader releases the Lease (empty holder), so a follower takes over at its next retry
///   instead of waiting out the lease.
///
/// Its own time (expiry, renew deadline, retries) is `clock` (`ReflectorClock.continuous` in the daemon).
public final class LeaderElector: Service, Sendable {
    public let configuration: LeaderElectionConfiguration
    private let client: KubeResourceClient
    private let logger: Logger
    private let onChange: @Sendable (Bool) -> Void
    private let clock: ReflectorClock
    private let state = Mutex(State())

    private struct State {
        var leading = false
        /// When this replica last wrote the Lease successfully as its holder, on `clock`.
        var renewedAt: Duration?
        /// The Lease as last read, and when it last changed on our clock.
        var observed: KubeValue?
        var observedAt: Duration?
        var waiters: [Int: AsyncStream<Bool>.Continuation] = [:]
        var nextWaiter = 0
    }

    /// `onChange` is called with `true` when this replica starts leading and `false` when it stops (the daemon
    /// sets its `mcdns_leader` gauge from it).
    public init(
        configuration: LeaderElectionConfiguration,
        connector: any KubeConnector,
        logger: Logger,
        clock: ReflectorClock = .continuous,
        onChange: @escaping @Sendable (Bool) -> Void = { _ in }
    ) throws(ControllerError) {
        try configuration.validate()
        self.configuration = configuration
        self.client = KubeResourceClient(
            resource: .leases,
            connector: connector,
            timeout: min(configuration.renewDeadline, .seconds(10))
        )
        var logger = logger
        logger[metadataKey: "lease"] = "\(configuration.namespace)/\(configuration.leaseName)"
        logger[metadataKey: "identity"] = "\(configuration.identity)"
        self.logger = logger
        self.onChange = onChange
        self.clock = clock
    }

    /// Whether this replica leads now: it holds the Lease and renewed it within `renewDeadline`.
    public func isLeader() -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard state.leading, let renewedAt = state.renewedAt else { return false }
            return now < renewedAt + configuration.renewDeadline
        }
    }

    /// Re-reads the Lease: true only if this replica still leads locally and the server still names it holder.
    /// The status writer calls it before each round of writes.
    public func confirmLeadership() async -> Bool {
        guard isLeader() else { return false }
        do throws(KubeAPIError) {
            let lease = try await client.get(namespace: configuration.namespace, name: configuration.leaseName)
            let holder = lease["spec"]?["holderIdentity"].flatMap(Self.string)
            if holder != configuration.identity {
                logger.info("the lease names another holder: leadership lost", metadata: ["holder": "\(holder ?? "")"])
                observe(lease)
                setLeading(false)
                return false
            }
            return isLeader()
        } catch {
            logger.debug("could not re-read the lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Yields the leadership state now and at every change, until the stream is dropped.
    public func leadershipChanges() -> AsyncStream<Bool> {
        let (stream, continuation) = AsyncStream.makeStream(of: Bool.self, bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextWaiter
            state.nextWaiter += 1
            state.waiters[id] = continuation
            continuation.yield(state.leading)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.waiters.removeValue(forKey: id) }
        }
        return stream
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await self.loop()
        }
        // In a task of its own: a cancelled caller (shutdown) would cancel the release request too.
        await Task { await self.release() }.value
    }

    private func loop() async {
        while !Task.isCancelled {
            let succeeded = await tryAcquireOrRenew()
            if succeeded {
                setLeading(true)
            } else if isLeadingFlag, !isLeader() {
                logger.info("could not renew the lease within the renew deadline: leadership lost")
                setLeading(false)
            }
            // client-go waits retryPeriod between renewals and retryPeriod × [1, 1.2) between acquisitions.
            let wait =
                isLeadingFlag ? configuration.retryPeriod : configuration.retryPeriod * Double.random(in: 1..<1.2)
            try? await clock.sleep(wait)
        }
    }

    private var isLeadingFlag: Bool { state.withLock { $0.leading } }

    /// One attempt: create the Lease, renew it, or take it over when free or expired. True when this replica
    /// holds it afterwards.
    private func tryAcquireOrRenew() async -> Bool {
        let namespace = configuration.namespace
        let name = configuration.leaseName
        let now = Date()
        let lease: KubeValue
        do throws(KubeAPIError) {
            lease = try await client.get(namespace: namespace, name: name)
        } catch .notFound {
            do throws(KubeAPIError) {
                let created = try await client.create(
                    namespace: namespace,
                    leaseObject(spec: newSpec(now: now, transitions: 0))
                )
                observe(created)
                markRenewed()
                return true
            } catch {
                // Another replica created it first (AlreadyExists): it leads.
                logger.debug("could not create the lease", metadata: ["error": "\(error)"])
                return false
            }
        } catch {
            logger.debug("could not read the lease", metadata: ["error": "\(error)"])
            return false
        }
        observe(lease)
        let spec = lease["spec"] ?? KubeValue(.object([:]))
        let holder = spec["holderIdentity"].flatMap(Self.string) ?? ""
        let transitions = spec["leaseTransitions"].flatMap(Self.int) ?? 0
        let newSpec: KubeValue
        if holder == configuration.identity {
            newSpec = spec.setting("renewTime", KubeValue(.string(Self.microTime(now))))
                .setting("leaseDurationSeconds", KubeValue(.int(leaseSeconds)))
        } else {
            // Someone else holds it (or nobody): this replica does not lead, whatever it thought.
            if isLeadingFlag {
                logger.info("the lease names another holder: leadership lost", metadata: ["holder": "\(holder)"])
                setLeading(false)
            }
            if !holder.isEmpty, !observedExpired() { return false }
            newSpec = self.newSpec(now: now, transitions: transitions + 1)
        }
        do throws(KubeAPIError) {
            let updated = try await client.update(namespace: namespace, name: name, lease.setting("spec", newSpec))
            observe(updated)
            markRenewed()
            return true
        } catch {
            // A conflict: another replica wrote first (it renewed or took over); its write wins.
            logger.debug("could not write the lease", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Gives the Lease up on shutdown so a follower need not wait for it to expire.
    private func release() async {
        guard isLeadingFlag else { return }
        setLeading(false)
        do throws(KubeAPIError) {
            let lease = try await client.get(namespace: configuration.namespace, name: configuration.leaseName)
            guard lease["spec"]?["holderIdentity"].flatMap(Self.string) == configuration.identity else { return }
            let now = Self.microTime(Date())
            let spec = (lease["spec"] ?? KubeValue(.object([:])))
                .setting("holderIdentity", nil)
                .setting("leaseDurationSeconds", KubeValue(.int(1)))
                .setting("renewTime", KubeValue(.string(now)))
                .setting("acquireTime", KubeValue(.string(now)))
            _ = try await client.update(
                namespace: configuration.namespace,
                name: configuration.leaseName,
                lease.setting("spec", spec)
            )
            logger.info("released the lease")
        } catch {
            logger.info("could not release the lease; it expires by itself", metadata: ["error": "\(error)"])
        }
    }

    private var leaseSeconds: Int { max(1, Int((configuration.leaseDuration / .seconds(1)).rounded(.up))) }

    private func newSpec(now: Date, transitions: Int) -> KubeValue {
        let time = KubeValue(.string(Self.microTime(now)))
        return KubeValue(
            .object([
                "holderIdentity": KubeValue(.string(configuration.identity)),
                "leaseDurationSeconds": KubeValue(.int(leaseSeconds)),
                "acquireTime": time,
                "renewTime": time,
                "leaseTransitions": KubeValue(.int(transitions)),
            ])
        )
    }

    private func leaseObject(spec: KubeValue) -> KubeValue {
        KubeValue(
            .object([
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": KubeValue(
                    .object([
                        "name": KubeValue(.string(configuration.leaseName)),
                        "namespace": KubeValue(.string(configuration.namespace)),
                    ])
                ),
                "spec": spec,
            ])
        )
    }

    /// Notes the Lease as read; its observation time moves only when its content changed.
    private func observe(_ lease: KubeValue) {
        let spec = lease["spec"]
        state.withLock { state in
            if state.observed != spec || state.observedAt == nil {
                state.observed = spec
                state.observedAt = clock.now()
            }
        }
    }

    /// Whether the observed Lease went unchanged for longer than its duration (its own leaseDurationSeconds,
    /// else ours).
    private func observedExpired() -> Bool {
        let now = clock.now()
        return state.withLock { state in
            guard let observedAt = state.observedAt else { return false }
            let seconds = state.observed?["leaseDurationSeconds"].flatMap(Self.int)
            let duration = seconds.map { Duration.seconds($0) } ?? configuration.leaseDuration
            return observedAt + duration < now
        }
    }

    private func markRenewed() {
        let now = clock.now()
        state.withLock { $0.renewedAt = now }
    }

    private func setLeading(_ leading: Bool) {
        let waiters = state.withLock { state -> [AsyncStream<Bool>.Continuation]? in
            guard state.leading != leading else { return nil }
            state.leading = leading
            if !leading { state.renewedAt = nil }
            return Array(state.waiters.values)
        }
        guard let waiters else { return }
        // Yielded outside the lock: a yield resumes the waiting task under the runtime's task-status lock, and a
        // cancelled waiter's `onTermination` takes our lock while holding that one (a lock-order deadlock).
        for waiter in waiters { waiter.yield(leading) }
        if leading {
            logger.info("acquired the lease: this replica leads and writes ServiceDNSRecord status")
        } else {
            logger.info("stopped leading: this replica no longer writes ServiceDNSRecord status")
        }
        onChange(leading)
    }

    static func string(_ value: KubeValue) -> String? {
        if case .string(let text) = value.content { return text }
        return nil
    }

    static func int(_ value: KubeValue) -> Int? {
        switch value.content {
        case .int(let number): return number
        // The host API server's JSON: a number too large for Int must read as absent, not trap.
        case .double(let number): return number.isFinite && abs(number) < 1e15 ? Int(number) : nil
        default: return nil
        }
    }

    /// Kubernetes MicroTime: RFC 3339 in UTC with six fractional digits.
    static func microTime(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        let whole = seconds.rounded(.down)
        let micros = Int(((seconds - whole) * 1_000_000).rounded(.down))
        // "2026-11-27T10:00:00Z" → "2026-11-27T10:00:00.123456Z".
        let base = Date(timeIntervalSince1970: whole).formatted(.iso8601)
        let digits = String(micros)
        let padded = String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        return String(base.dropLast()) + "." + padded + "Z"
    }
}
