import MCDNSModel
import Testing

/// `WarmStart` on its own: what a warm start restores and when it lets go, with time passed in (no sleeping) and a
/// dictionary standing in for the table the store serves.
@Suite struct WarmStartTests {
    typealias Warm = WarmStart<ContinuousClock.Instant>

    static let east = ClusterID("east-1")
    static let west = ClusterID("west-1")
    static let t0 = ContinuousClock.now
    static let grace: Duration = .seconds(120)

    static func member(_ id: ClusterID, _ link: LinkState, zone: String = "z") -> ClusterInfo {
        ClusterInfo(id: id, locality: Locality(region: "r", zone: zone), link: link)
    }

    static func record(_ name: String, _ targets: [(ClusterID, String)]) -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: name))
        record.status.dns = targets.map { cluster, address in
            ClusterDNS(cluster: cluster, region: "r", zones: ["z"], clusterIPs: [IPAddress(address)!], readyEndpoints: 1)
        }
        return record
    }

    static func key(_ name: String) -> ServiceKey { ServiceKey(namespace: "shop", name: name) }

    /// What the store would serve: the changes applied to records and members, as `LiveTable.apply` does.
    struct Served {
        var records: [ServiceKey: ServiceDNSRecord] = [:]
        var clusters: [ClusterID: ClusterInfo] = [:]

        mutating func apply(_ changes: RecordChanges) {
            for key in changes.removed { records[key] = nil }
            for record in changes.upserted { records[record.key] = record }
            if let members = changes.clusters {
                clusters = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
            }
        }

        /// The addresses served for `name`, by cluster.
        func addresses(_ name: String) -> [String: [String]] {
            var result: [String: [String]] = [:]
            for dns in records[WarmStartTests.key(name)]?.status.dns ?? [] {
                result[dns.cluster.rawValue, default: []] += dns.clusterIPs.map(\.description)
            }
            return result
        }
    }

    /// A warm start restoring `records` at `t0`, and what the store serves once the restore compiled.
    static func restored(_ records: [ServiceDNSRecord], _ clusters: [ClusterInfo]) -> (Warm, Served) {
        let (warm, changes) = Warm.restoring(records: records, clusters: clusters, at: t0, grace: grace)
        var served = Served()
        served.apply(changes)
        return (warm, served)
    }

    /// Passes `changes` through `warm` and applies the result to `served`; returns the result.
    @discardableResult
    static func step(_ warm: inout Warm, _ served: inout Served, _ changes: RecordChanges) -> RecordChanges {
        let records = served.records
        let effective = warm.effective(changes) { records[$0] }
        served.apply(effective)
        return effective
    }

    @Test func aRestoreServesTheSavedRecordsWithEveryMemberStaleExceptThoseSavedOffline() {
        let web = Self.record("web", [(Self.east, "10.0.0.1")])
        let (warm, changes) = Warm.restoring(
            records: [web], clusters: [Self.member(Self.east, .synced), Self.member(Self.west, .offline)],
            at: Self.t0, grace: Self.grace)
        #expect(changes.upserted == [web])
        #expect(changes.removed.isEmpty)
        #expect(changes.clusters == [Self.member(Self.east, .stale), Self.member(Self.west, .offline)])
        #expect(warm.inProgress)
        #expect(warm.restoredFromState)
        #expect(warm.unconfirmed == [web.key])
        #expect(!warm.allSyncedOnce, "nothing reported yet")
    }

    @Test func aMemberThatHasNotSyncedKeepsItsRestoredStateInsteadOfOffline() {
        let web = Self.record("web", [(Self.east, "10.0.0.1")])
        var (warm, served) = Self.restored([web], [Self.member(Self.east, .synced)])
        // The controller's first report: east-1 offline, never synced, in a zone it has not learnt yet.
        let result = Self.step(&warm, &served, RecordChanges(clusters: [Self.member(Self.east, .offline, zone: "")]))
        #expect(result.clusters == [Self.member(Self.east, .stale)], "the restored locality, stale")
        #expect(served.addresses("web") == ["east-1": ["10.0.0.1"]])
        #expect(warm.inProgress)
    }

    /// A service served by two members before the restart: the member that syncs first republishes it with its own
    /// targets only, and the other member's restored targets stay (stale) until that member has synced too.
    @Test func aMemberThatSyncsFirstDoesNotDropTheOthersRestoredTargets() {
        let web = Self.record("web", [(Self.east, "10.0.0.1"), (Self.west, "10.0.0.2")])
        let api = Self.record("api", [(Self.west, "10.0.1.2")])
        let both = [Self.member(Self.east, .synced), Self.member(Self.west, .synced)]
        var (warm, served) = Self.restored([web, api], both)

        // east-1 syncs: web comes back with east-1's new address only, and api is not in east-1 (removed).
        let first = Self.step(&warm, &served, RecordChanges(
            upserted: [Self.record("web", [(Self.east, "10.0.0.9")])], removed: [api.key],
            clusters: [Self.member(Self.east, .synced), Self.member(Self.west, .offline)]))
        #expect(served.addresses("web") == ["east-1": ["10.0.0.9"], "west-1": ["10.0.0.2"]],
                "west-1's restored target stays beside east-1's fresh one")
        #expect(served.addresses("api") == ["west-1": ["10.0.1.2"]], "api is west-1's: kept until it syncs")
        #expect(first.removed.isEmpty)
        #expect(first.clusters == [Self.member(Self.east, .synced), Self.member(Self.west, .stale)])
        #expect(warm.syncedOnce == [Self.east])
        #expect(warm.unconfirmed == [api.key], "web was republished; api is restored data only")

        // west-1 syncs without web's second address and without api: now both go, and the warm start is over.
        let second = Self.step(&warm, &served, RecordChanges(
            upserted: [Self.record("web", [(Self.east, "10.0.0.9")])], removed: [api.key], clusters: both))
        #expect(served.addresses("web") == ["east-1": ["10.0.0.9"]])
        #expect(served.records[api.key] == nil)
        #expect(second.clusters == both)
        #expect(!warm.inProgress)
        #expect(warm.allSyncedOnce)
    }

    @Test func onceEveryMemberHasSyncedRestoredServicesNobodyRepublishedLeave() {
        let web = Self.record("web", [(Self.east, "10.0.0.1")])
        let api = Self.record("api", [(Self.east, "10.0.0.2")])
        var (warm, served) = Self.restored([web, api], [Self.member(Self.east, .synced)])
        let result = Self.step(&warm, &served, RecordChanges(
            upserted: [Self.record("web", [(Self.east, "10.0.0.9")])], clusters: [Self.member(Self.east, .synced)]))
        #expect(result.removed == [api.key])
        #expect(result.clusters == [Self.member(Self.east, .synced)])
        #expect(served.records.keys.map(\.name) == ["web"])
        #expect(!warm.inProgress)
        #expect(warm.unconfirmed.isEmpty)
    }

    @Test func aWarmStartThatNeverCompletesEndsOnceItsGraceIsOver() {
        let web = Self.record("web", [(Self.east, "10.0.0.1")])
        var (warm, served) = Self.restored([web], [Self.member(Self.east, .synced)])
        Self.step(&warm, &served, RecordChanges(clusters: [Self.member(Self.east, .offline)]))
        #expect(!warm.overdue(at: Self.t0 + Self.grace - .milliseconds(1)))
        #expect(warm.overdue(at: Self.t0 + Self.grace))
        let end = warm.end(served: Array(served.clusters.values))
        #expect(end == RecordChanges(removed: [web.key], clusters: [Self.member(Self.east, .offline)]),
                "unconfirmed services leave; members as the controller reported them")
        #expect(!warm.inProgress)
        #expect(!warm.overdue(at: Self.t0 + Self.grace * 2))
        #expect(warm.end(served: []) == nil, "ended once")
    }

    @Test func anEndBeforeAnyReportShowsTheMembersAsServed() {
        let web = Self.record("web", [(Self.east, "10.0.0.1")])
        let (restored, served) = Self.restored([web], [Self.member(Self.east, .synced)])
        var warm = restored
        #expect(warm.end(served: Array(served.clusters.values)) ==
                RecordChanges(removed: [web.key], clusters: [Self.member(Self.east, .stale)]))
    }

    @Test func aColdStartPassesChangesThroughAndOnlyNotesWhoHasSynced() {
        var warm = Warm()
        var served = Served()
        #expect(!warm.inProgress)
        #expect(!warm.restoredFromState)
        let changes = RecordChanges(upserted: [Self.record("web", [(Self.east, "10.0.0.1")])],
                                    clusters: [Self.member(Self.east, .synced), Self.member(Self.west, .offline)])
        #expect(Self.step(&warm, &served, changes) == changes)
        #expect(warm.syncedOnce == [Self.east])
        #expect(!warm.allSyncedOnce, "west-1 has not synced")
        let removal = RecordChanges(removed: [Self.key("web")])
        #expect(Self.step(&warm, &served, removal) == removal, "no warm start keeps anything")
        #expect(!warm.overdue(at: Self.t0 + Self.grace * 10))
    }

    /// A reload: the new controller republishes from scratch, so what is served now is kept like restored data until
    /// each member has synced again, and for no longer than the grace.
    @Test func aResyncKeepsWhatIsServedUntilEachMemberSyncsAndEndsAfterItsGrace() {
        var warm = Warm()
        var served = Served()
        Self.step(&warm, &served, RecordChanges(upserted: [Self.record("web", [(Self.east, "10.0.0.1")])],
                                                clusters: [Self.member(Self.east, .synced)]))
        #expect(warm.allSyncedOnce)
        let t1 = Self.t0 + .seconds(600)
        warm.expectResync(records: served.records.keys, clusters: served.clusters, at: t1, grace: .seconds(30))
        #expect(warm.inProgress)
        #expect(!warm.restoredFromState)
        #expect(warm.syncedOnce.isEmpty)
        #expect(warm.reported == nil)
        #expect(!warm.allSyncedOnce)
        #expect(warm.unconfirmed == [Self.key("web")])

        // The new controller's first report: east-1 not synced yet. It stays stale with its targets.
        let report = Self.step(&warm, &served, RecordChanges(clusters: [Self.member(Self.east, .offline)]))
        #expect(report.clusters == [Self.member(Self.east, .stale)])
        #expect(served.addresses("web") == ["east-1": ["10.0.0.1"]])
        #expect(!warm.overdue(at: t1 + .seconds(29)))
        #expect(warm.overdue(at: t1 + .seconds(30)))
        #expect(warm.end(served: []) == RecordChanges(removed: [Self.key("web")],
                                                      clusters: [Self.member(Self.east, .offline)]))
    }
}
