@testable import DNSAnswer
import DNSWire
import MCDNSModel
import RecordStore
import Testing

/// Issue 21: shapes that crashed the release build in `NameStore.discard` (members joining one by one, each in its
/// own zone; tens of thousands of services loaded and then all deleted, also right after a warm start), fed
/// through the daemon's path (RecordStore, LiveTable) with name stores of small chunks, so that a few hundred
/// services reach the compactions a million names reach with 1 MiB chunks. After every batch every invariant
/// holds and a sample of names answers with what its members give.
@Suite struct ScaleShapeTests {
    static let example = """
        $ORIGIN example.com.
        @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 60
        @ 300 IN NS ns1
        ns1 300 IN A 192.0.2.1

        """
    static let clusterset = """
        $ORIGIN clusterset.local.
        @ 30 IN SOA ns.clusterset.local. hostmaster 1 7200 3600 1209600 5
        @ 30 IN NS ns
        ns 30 IN A 192.0.2.2

        """
    static let naming = NamingConfiguration(
        federationName: "acme", federationDomain: try! DomainName("example.com"),
        clustersetDomain: try! DomainName("clusterset.local"), recordTTL: 30, degradedTTL: 5)

    static func liveTable(chunkSize: Int) throws -> LiveTable {
        let (a, _) = ZoneFile.parse(example, origin: try DomainName("example.com"))
        let (b, _) = ZoneFile.parse(clusterset, origin: try DomainName("clusterset.local"))
        return try LiveTable(zones: [try #require(a), try #require(b)], naming: naming, chunkSize: chunkSize)
    }

    /// Member m of `members`: its own zone, one of three regions.
    static func member(_ m: Int, _ link: LinkState) -> ClusterInfo {
        ClusterInfo(id: ClusterID("member-\(m)"), locality: Locality(region: "region-\(m % 3)", zone: "zone-\(m)"),
                    link: link)
    }

    /// Service s as the members `0..<members` export it: one named port, one slice of three ready endpoints each,
    /// spread over 50 namespaces.
    static func record(_ s: Int, members: Int) -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "ns-\(s % 50)", name: "svc-\(s)"))
        record.status.ports = [ServicePort(name: "http", protocol: "TCP", port: 8080)]
        for m in 0..<members {
            let info = member(m, .synced)
            record.status.dns.append(ClusterDNS(
                cluster: info.id, region: info.locality.region, zones: [info.locality.zone],
                clusterIPs: [IPAddress("10.\(m).\(s / 250).\(s % 250)")!],
                endpoints: (0..<3).map { Endpoint(address: IPAddress("10.\(100 + m).\(s / 250).\(s % 250 + $0)")!) },
                readyEndpoints: 3))
        }
        return record
    }

    static func check(_ store: RecordStore, _ step: String) {
        let problems = store.withLiveTable { table, _ in table.validate() } ?? ["no live table"]
        #expect(problems == [], "\(step)")
    }

    /// The A records `svc-<s>` answers with (its members' cluster IPs), over the table's own wire path.
    static func addresses(_ table: AnswerTable, _ s: Int) throws -> Set<String> {
        let query = try Message.query(name: try DomainName("svc-\(s).ns-\(s % 50).acme.svc.example.com"), type: .a)
        var output = [UInt8](repeating: 0, count: 65535)
        let length = query.withUnsafeBytes { q in
            output.withUnsafeMutableBytes { table.respond(to: q, transport: .tcp, into: $0) }
        }
        return Set(try Message(wire: Array(output[..<length])).answer.map {
            String($0.split(whereSeparator: { $0 == "\t" || $0 == " " })[4])
        })
    }

    /// Members sync one at a time, and each sync republishes every service with that member's targets added:
    /// every name is rewritten once per member, while the zones' tails fill with the garbage of those rewrites.
    @Test(arguments: [(10, 60, 1_024), (16, 40, 2_048)])
    func membersJoiningOneByOneEachInItsOwnZone(members: Int, services: Int, chunkSize: Int) async throws {
        let store = try RecordStore(live: try Self.liveTable(chunkSize: chunkSize), firstSerial: 1)
        var links = (0..<members).map { Self.member($0, .offline) }
        for joined in 1...members {
            links[joined - 1].link = .synced
            await store.apply(RecordChanges(upserted: (0..<services).map { Self.record($0, members: joined) },
                                            clusters: links))
            Self.check(store, "\(joined) of \(members) members synced")
        }
        #expect(store.stats.failedBuilds == 0)
        let everyMember = Set((0..<members).map { "10.\($0).0.7" })
        #expect(try Self.addresses(store.current(), 7) == everyMember)
        // Then the services go, as a member's manifests are deleted.
        await store.apply(RecordChanges(removed: (0..<services).map { Self.record($0, members: 0).key }))
        Self.check(store, "all removed")
        #expect(try Self.addresses(store.current(), 7) == [])
    }

    static let many = (0..<2_000).map { record($0, members: 1) }

    /// Thousands of services in one batch, then all removed in one batch.
    @Test func loadingManyServicesAndDeletingThemAll() async throws {
        let records = Self.many
        let synced = [Self.member(0, .synced)]
        let first = try RecordStore(live: try Self.liveTable(chunkSize: 2_048), firstSerial: 1)
        await first.apply(RecordChanges(upserted: records, clusters: synced))
        Self.check(first, "loaded")
        #expect(try Self.addresses(first.current(), 1_999) == ["10.0.7.249"])
        await first.apply(RecordChanges(removed: records.map(\.key)))
        Self.check(first, "all removed")
        #expect(try Self.addresses(first.current(), 1_999) == [])
        #expect(first.stats.failedBuilds == 0)
    }

    /// The same from a saved state: the warm start loads them and the resync removes them all (the restart
    /// crash loop of issue 21).
    @Test func aWarmStartFollowedByDeletingEverything() async throws {
        let records = Self.many
        let synced = [Self.member(0, .synced)]
        let saved = PersistedState(serial: 10, serialReserved: 100, savedAt: 0, records: records, clusters: synced)
        let second = try RecordStore(live: try Self.liveTable(chunkSize: 2_048), firstSerial: 1, restoring: saved)
        Self.check(second, "warm start")
        #expect(try Self.addresses(second.current(), 0) == ["10.0.0.0"])
        // The member syncs with none of them: every restored record leaves in one batch.
        await second.apply(RecordChanges(removed: records.map(\.key), clusters: synced))
        Self.check(second, "resync removed everything")
        #expect(try Self.addresses(second.current(), 0) == [])
        #expect(second.liveState()?.records.isEmpty == true)
        #expect(second.stats.failedBuilds == 0)
    }
}
