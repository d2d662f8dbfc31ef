import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// An incremental update rebuilds only the shards it touches, copying every other entry from the previous shard.
/// Property: after any sequence of upserts and removals, every answer equals, byte for byte, the answer of a table
/// compiled from scratch from the final records and members at the same serial. Some steps also change members'
/// link states (recompiling only the services those members serve) or a locality (recompiling everything).
@Suite struct IncrementalUpdatePropertyTests {
    static let clusters = [
        ClusterInfo(id: "c0", locality: Locality(region: "r1", zone: "r1a"), link: .synced),
        ClusterInfo(id: "c1", locality: Locality(region: "r1", zone: "r1b"), link: .stale),
        ClusterInfo(id: "c2", locality: Locality(region: "r2", zone: "r2a"), link: .synced),
    ]
    static let types: [RRType] = [.a, .aaaa, .srv, .txt, .cname, .ns, .soa, .mx, .any]

    static func record(_ rng: inout SplitMix64, index: Int) -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "ns\(index % 3)", name: "svc\(index)"))
        record.status.headless = Int.random(in: 0..<3, using: &rng) == 0
        record.status.ports = [ServicePort(name: "http", protocol: "TCP", port: 80 + index % 4)]
        for (i, info) in clusters.enumerated() where Bool.random(using: &rng) {
            let ready = Int.random(in: 0...2, using: &rng)
            let endpoints = (0..<2).map {
                Endpoint(address: IPAddress("10.\(i).\(index).\($0 + Int.random(in: 0..<3, using: &rng))")!,
                         hostname: record.status.headless ? "pod-\($0)" : nil, ready: $0 < ready)
            }
            record.status.dns.append(ClusterDNS(
                cluster: info.id, region: info.locality.region, zones: [info.locality.zone],
                clusterIPs: record.status.headless ? [] : [IPAddress("10.\(i).0.\(index)")!], endpoints: endpoints,
                readyEndpoints: ready))
        }
        return record
    }

    static func table(_ naming: NamingConfiguration) throws -> LiveTable {
        let (a, _) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        let (b, _) = ZoneFile.parse(Fixture.clusterset, origin: try DomainName("clusterset.local"))
        return try LiveTable(zones: [try #require(a), try #require(b)], naming: naming)
    }

    static func answer(_ table: AnswerTable, _ name: DomainName, _ type: RRType, cluster: String?) throws -> [UInt8] {
        var options: [UInt8] = []
        if let cluster {
            let value = Array(cluster.utf8)
            options = [0xFF, 0xEE, 0, UInt8(value.count)] + value
        }
        let query = try Message.query(name: name, type: type, edns: (1232, 0, false, options))
        var output = [UInt8](repeating: 0, count: 65535)
        let length = query.withUnsafeBytes { q in
            output.withUnsafeMutableBytes { table.respond(to: q, transport: .tcp, into: $0) }
        }
        return Array(output[..<length])
    }

    /// CPU-bound: it yields between steps so that, in a parallel run on two cores, the async tests that wait on
    /// timeouts are not starved of the cooperative pool's threads.
    @Test(arguments: 0..<16)
    func incrementalEqualsFromScratch(seed: UInt64) async throws {
        var rng = SplitMix64(state: seed &+ 1000)
        let naming = LiveNamesTests.naming
        let incremental = try Self.table(naming)
        var current: [ServiceKey: ServiceDNSRecord] = [:]
        var serial: UInt32 = 10
        var clusters = Self.clusters
        var table = try incremental.apply(RecordChanges(upserted: [], removed: [], clusters: clusters), serial: serial)
        for _ in 0..<30 {
            await Task.yield()
            var changedClusters: [ClusterInfo]? = nil
            switch Int.random(in: 0..<8, using: &rng) {
            case 0, 1:
                let i = Int.random(in: 0..<clusters.count, using: &rng)
                clusters[i].link = [LinkState.synced, .stale, .offline].randomElement(using: &rng)!
                changedClusters = clusters
            case 2:
                let i = Int.random(in: 0..<clusters.count, using: &rng)
                clusters[i].locality.zone = clusters[i].locality.zone + "x"
                changedClusters = clusters
            default:
                break
            }
            serial += 1
            var upserted: [ServiceDNSRecord] = []
            var removed: [ServiceKey] = []
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let index = Int.random(in: 0..<25, using: &rng)
                let key = ServiceKey(namespace: "ns\(index % 3)", name: "svc\(index)")
                if current[key] != nil, Int.random(in: 0..<3, using: &rng) == 0, !upserted.contains(where: { $0.key == key }) {
                    if !removed.contains(key) { removed.append(key) }
                } else if !removed.contains(key), !upserted.contains(where: { $0.key == key }) {
                    upserted.append(Self.record(&rng, index: index))
                }
            }
            for key in removed { current[key] = nil }
            for record in upserted { current[record.key] = record }
            table = try incremental.apply(RecordChanges(upserted: upserted, removed: removed, clusters: changedClusters),
                                          serial: serial)
        }
        let scratch = try Self.table(naming)
        let reference = try scratch.apply(RecordChanges(upserted: Array(current.values), removed: [], clusters: clusters),
                                          serial: serial)
        #expect(table.nameCount == reference.nameCount, "seed \(seed)")
        var names = Set(scratch.namesByService.values.joined())
        names.formUnion(incremental.namesByService.values.joined())
        #expect(!names.isEmpty)
        names.insert(try DomainName("example.com"))
        names.insert(try DomainName("clusterset.local"))
        names.insert(try DomainName("svc99.ns0.acme.svc.example.com"))
        var compared = 0
        for name in names {
            await Task.yield()
            for type in Self.types {
                for cluster in [nil, "c0", "c2"] {
                    let got = try Self.answer(table, name, type, cluster: cluster)
                    let want = try Self.answer(reference, name, type, cluster: cluster)
                    #expect(got == want, "seed \(seed): \(name) \(type) as \(cluster ?? "anyone")")
                    compared += 1
                }
            }
        }
        #expect(compared > 100)
    }
}
