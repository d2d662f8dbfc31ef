import KubeClient
import Logging
import MCDNSModel

/// The controller's working state: member caches and links, the dirty set, and what was last published.
///
/// Level-based, as client-go's workqueue: events only mark service keys dirty; a flush recomputes each dirty key
/// from the current caches, so a burst of events for one key is one merge, and a merge never depends on the
/// order or number of events that led to it.
struct ReconcileState<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    var members: [MemberRuntime<Instant>]
    let policy: ExportPolicy
    var dirty: Set<ServiceKey> = []
    /// The member list (links, localities) changed since the last flush; the first flush always sends it.
    var clustersChanged = true
    /// Specs of the ServiceDNSRecords users created in the host cluster, by service.
    private(set) var userSpecs: [ServiceKey: KubeServiceDNSRecord.Spec] = [:]
    /// The records last handed to the sink, to send only real changes. A second copy of the merged records, needed
    /// because what a sink serves is not what was sent (a warm start keeps restored targets, a failed compile keeps
    /// the old records) and a sink is not read back; each record shares its field box with the sinks' copies.
    private(set) var published: [ServiceKey: ServiceDNSRecord] = [:]
    /// Records whose every healthy cluster is drained (they answer as if none were), to warn once on entry.
    private(set) var allDrained: Set<ServiceKey> = []
    /// Keys that entered `allDrained` since the controller last took them (`takeNewlyAllDrained`).
    private var newlyAllDrained: [ServiceKey] = []
    /// Port lists and conditions that many records hold alike, stored once (`SharedValues`).
    private var shared = SharedValues()

    init(configuration: ControllerConfiguration) {
        members = configuration.members.map { MemberRuntime(configuration: $0, grace: configuration.staleGracePeriod) }
        policy = configuration.export
    }

    var needsFlush: Bool { !dirty.isEmpty || clustersChanged }

    /// The most keys a flush keeps the dirty set's room for.
    static var keptDirtyCapacity: Int { 1_024 }

    /// Applies one event; returns the instant the member goes offline when the event made it stale.
    ///
    /// Members are mutated in place through their index (never copied out and back), so a cache's dictionaries
    /// are not copied on write for every event.
    mutating func handle(
        _ event: MemberEvent,
        member index: Int,
        now: Instant,
        wallClock: Double,
        logger: Logger
    ) -> Instant? {
        // Built only when something is logged: most events log nothing.
        var memberLogger: Logger { Self.logger(logger, for: members[index].id) }
        members[index].lastEvent = wallClock
        switch event {
        case .upsert, .delete, .replace:
            let impact = members[index].cache.apply(event)
            // Until the member's first sync its data is incomplete; the sync dirties everything at once. Its
            // locality is taken from the Nodes seen so far, though: reported early (while the table holds none of
            // its records) it makes the sync a change of link state alone, which recompiles only this member's
            // services; learnt at the sync, it would rebuild every service's answers for this requester.
            guard members[index].link.everSynced else {
                if impact.topologyChanged, members[index].refreshTopology() { clustersChanged = true }
                return nil
            }
            dirty.formUnion(impact.keys)
            if impact.topologyChanged {
                topologyChanged(member: index, logger: memberLogger)
            }
        case .synced, .linkRegained:
            let first = !members[index].link.everSynced
            if members[index].link.markSynced(wallClock: wallClock) {
                memberLogger.info("member is synced")
                clustersChanged = true
                dirty.formUnion(members[index].cache.allKeys)
            }
            if first { topologyChanged(member: index, logger: memberLogger, report: true) }
        case .linkLost(let reason):
            members[index].note("link lost: \(reason)", wallClock: wallClock)
            return lost(member: index, reason: reason, now: now, wallClock: wallClock, logger: memberLogger)
        case .problem(let message):
            members[index].note(message, wallClock: wallClock)
            memberLogger.info("\(message)")
        }
        return nil
    }

    /// The source stopped for good (`reason` says why); the member ages out like any lost link.
    mutating func sourceEnded(
        member index: Int,
        reason: String,
        now: Instant,
        wallClock: Double,
        logger: Logger
    ) -> Instant? {
        let logger = Self.logger(logger, for: members[index].id)
        logger.info("member source stopped", metadata: ["reason": "\(reason)"])
        members[index].note("source stopped: \(reason)", wallClock: wallClock)
        return lost(member: index, reason: reason, now: now, wallClock: wallClock, logger: logger)
    }

    /// A grace deadline passed: a still-stale member goes offline.
    mutating func expire(member index: Int, now: Instant, logger: Logger) {
        guard members[index].link.expire(at: now) else { return }
        Self.logger(logger, for: members[index].id).info("member is offline: its targets leave the answers")
        clustersChanged = true
        dirty.formUnion(members[index].cache.allKeys)
    }

    /// Takes the current user specs of `changed` keys (nil: no record, or one with an empty spec); a key whose
    /// spec changed is merged again.
    mutating func setUserSpecs(_ changed: [ServiceKey: KubeServiceDNSRecord.Spec?]) {
        for (key, spec) in changed where userSpecs[key] != spec {
            userSpecs[key] = spec
            dirty.insert(key)
        }
    }

    /// Sets which members are drained (absent: not drained); a member whose drain changed has its services merged
    /// again and the member list is sent, while its cache and watches stay as they are.
    mutating func setDrains(_ drains: [ClusterID: ClusterDrain]) {
        for index in members.indices where members[index].drain != drains[members[index].id] {
            members[index].drain = drains[members[index].id]
            clustersChanged = true
            dirty.formUnion(members[index].cache.allKeys)
        }
    }

    /// The records that entered the all-drained fallback since the last call.
    mutating func takeNewlyAllDrained() -> [ServiceKey] {
        defer { newlyAllDrained = [] }
        return newlyAllDrained
    }

    /// Merges every dirty key and returns what changed since the last flush.
    mutating func flush() -> RecordChanges {
        var changes = RecordChanges()
        for key in dirty.sorted() {
            let inputs = members.compactMap { $0.input(for: key, policy: policy) }
            if var record = RecordMerger.merge(key: key, members: inputs, userSpec: userSpecs[key]) {
                let fallback = record.status.conditions.contains {
                    $0.type == RecordMerger.ConditionType.drained && $0.reason == RecordMerger.DrainReason.allHealthyDrained
                }
                if fallback {
                    if allDrained.insert(key).inserted { newlyAllDrained.append(key) }
                } else {
                    allDrained.remove(key)
                }
                if published[key] != record {
                    shared.share(&record)
                    published[key] = record
                    changes.upserted.append(record)
                }
            } else if published.removeValue(forKey: key) != nil {
                allDrained.remove(key)
                changes.removed.append(key)
            }
        }
        // A member's first sync dirties every key it has at once (100,000 at scale): a set that large gives its
        // room back rather than keep megabytes for good. Small sets keep theirs.
        dirty.removeAll(keepingCapacity: dirty.count <= Self.keptDirtyCapacity)
        if clustersChanged {
            changes.clusters = members.map(\.info)
            clustersChanged = false
        }
        return changes
    }

    private mutating func lost(
        member index: Int,
        reason: String,
        now: Instant,
        wallClock: Double,
        logger: Logger
    ) -> Instant? {
        guard let deadline = members[index].link.markLost(at: now, wallClock: wallClock) else { return nil }
        logger.info("member link lost: serving its last-known targets as stale", metadata: ["reason": "\(reason)"])
        clustersChanged = true
        dirty.formUnion(members[index].cache.allKeys)
        return deadline
    }

    /// Node labels changed: the member's locality and endpoint zones taken from nodes may have moved.
    private mutating func topologyChanged(member index: Int, logger: Logger, report: Bool = false) {
        dirty.formUnion(members[index].cache.allKeys)
        if members[index].refreshTopology() {
            clustersChanged = true
        } else if !report {
            return
        }
        let topology = members[index].topology
        if topology.isKnown {
            logger.info("member locality", metadata: ["locality": "\(topology.locality)"])
        } else {
            // Reported, never fatal: the member's services go to `unknown` and other records are untouched.
            let missing = topology.regionKnown ? "zone" : "region"
            logger.info(
                """
                member has no \(missing): placed in unknown; set region/zones in the configuration \
                or label its Nodes topology.kubernetes.io/region and /zone
                """,
                metadata: ["locality": "\(topology.locality)"]
            )
        }
    }

    private static func logger(_ base: Logger, for cluster: ClusterID) -> Logger {
        var logger = base
        logger[metadataKey: "cluster.id"] = "\(cluster)"
        return logger
    }
}

/// Values that many published records hold alike — a port list (`http/TCP/80`), a Ready condition ("ready
/// endpoints in m7") — kept once: a record takes the array an earlier record holds, so the copies share one buffer
/// (and its strings). Sharing changes no value: a record compares equal with or without it.
///
/// Bounded: past `limit` distinct values of a kind (conditions that name many clusters, conflict details) the
/// table starts again; records keep the arrays they took, so only later sharing is lost.
struct SharedValues: Sendable {
    private var ports: [[ServicePort]: [ServicePort]] = [:]
    private var conditions: [[Condition]: [Condition]] = [:]
    static var limit: Int { 4_096 }

    /// Points the record's ports and conditions at equal arrays seen before.
    mutating func share(_ record: inout ServiceDNSRecord) {
        Self.share(&record.status.ports, in: &ports)
        Self.share(&record.status.conditions, in: &conditions)
    }

    private static func share<Element: Hashable>(_ value: inout [Element], in table: inout [[Element]: [Element]]) {
        guard !value.isEmpty else { return }
        if let known = table[value] {
            value = known
            return
        }
        if table.count >= limit { table.removeAll(keepingCapacity: true) }
        table[value] = value
    }
}
