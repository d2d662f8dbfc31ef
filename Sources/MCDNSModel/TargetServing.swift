/// Whether a cluster's targets take part in a record's answers, and how (DESIGN §5, README "Draining"): the one
/// owner of that decision. The merge reads it for a record's Ready and Drained conditions, the DNS half for the
/// answers, `mcdns explain` and `mcdns records`; none of them repeats the rule.
///
/// Two steps. `verdict` decides health per cluster: a cluster serves when its member is not offline and it has
/// ready endpoints (or the record allows it without); a stale member serves its last-known targets with the
/// degraded TTL. `selecting` then applies draining to the clusters that serve: drained ones leave the answers,
/// unless every one of them is drained, in which case all of them answer as if none were (draining alone never
/// empties an answer).
public enum TargetServing {
    /// One cluster's part in one record's answers, before draining.
    public enum Verdict: Hashable, Sendable {
        /// Current targets, answered with the record's TTL.
        case served
        /// The member's link is stale: last-known targets, answered with the degraded TTL.
        case stale
        /// The member is offline (link lost beyond the grace period, or never synced): targets withdrawn.
        case offline
        /// No ready endpoint, and the record does not allow serving without: targets withdrawn.
        case noReadyEndpoints

        /// The cluster's targets are in the answers (before draining).
        public var serves: Bool { self == .served || self == .stale }
    }

    /// The link a record's cluster data is answered with: the member's link as the controller reports it, made
    /// stale when the record's own data is marked stale (merged while the link was down, or restored from the
    /// state file); the record's mark alone when the member is unknown.
    public static func link(member: LinkState?, recordStale: Bool) -> LinkState {
        guard let member else { return recordStale ? .stale : .synced }
        return member == .synced && recordStale ? .stale : member
    }

    /// The health rule: served when not offline and with ready endpoints, or allowed without them.
    public static func verdict(link: LinkState, readyEndpoints: Int, allowsWithoutEndpoints: Bool) -> Verdict {
        if link == .offline { return .offline }
        guard readyEndpoints > 0 || allowsWithoutEndpoints else { return .noReadyEndpoints }
        return link == .stale ? .stale : .served
    }

    /// The verdict for one cluster entry of a record, with `member` the member as the DNS half knows it.
    public static func verdict(_ dns: ClusterDNS, member: ClusterInfo?, spec: ServiceDNSRecord.Spec) -> Verdict {
        verdict(
            link: link(member: member?.link, recordStale: dns.stale),
            readyEndpoints: dns.readyEndpoints,
            allowsWithoutEndpoints: spec.allowServiceWithoutEndpoints
        )
    }

    /// The TTL of an answer: the record's, capped by the degraded TTL when any target in it is stale.
    public static func ttl(record: UInt32, degraded: UInt32, stale: Bool) -> UInt32 {
        stale ? min(record, degraded) : record
    }

    /// The clusters that answer, out of `serving` (those whose verdict serves and that have targets for the name).
    public struct Selection<Target> {
        /// The targets the answers use.
        public var answering: [Target]
        /// Serving targets left out because their cluster is drained.
        public var drainedOut: [Target]
        /// Every serving target's cluster is drained, so all of them answer as if none were.
        public var allDrained: Bool
    }

    /// Applies draining: drained clusters leave `serving`, unless every one is drained (then none leaves).
    public static func selecting<Target>(_ serving: [Target], drained: (Target) -> Bool) -> Selection<Target> {
        var kept: [Target] = []
        var out: [Target] = []
        for target in serving {
            if drained(target) { out.append(target) } else { kept.append(target) }
        }
        if kept.isEmpty && !out.isEmpty {
            return Selection(answering: serving, drainedOut: [], allDrained: true)
        }
        return Selection(answering: kept, drainedOut: out, allDrained: false)
    }
}
