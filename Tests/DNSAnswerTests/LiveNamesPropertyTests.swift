import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// A small deterministic generator so a failing seed can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Properties over random member states: whatever the members do, the table stays coherent.
@Suite struct LiveNamesPropertyTests {
    struct World {
        var clusters: [ClusterInfo]
        var records: [ServiceDNSRecord]
    }

    /// Every cluster gets its own address block (cluster i: 10.i.x.y for clusterIPs, 192.0.i.y for LBs), so an
    /// address tells which cluster it came from.
    static func world(_ rng: inout SplitMix64) -> World {
        let regions = ["r1", "r2", "r3"]
        let clusterCount = Int.random(in: 1...5, using: &rng)
        var clusters: [ClusterInfo] = []
        for i in 0..<clusterCount {
            let region = Bool.random(using: &rng) || i == 0 ? regions.randomElement(using: &rng)! : Locality.unknown
            let zone = Int.random(in: 0..<4, using: &rng) == 0 ? Locality.unknown : region + ["a", "b"].randomElement(using: &rng)!
            let link: LinkState = [.synced, .synced, .stale, .offline].randomElement(using: &rng)!
            clusters.append(ClusterInfo(id: ClusterID("c\(i)"), locality: Locality(region: region, zone: zone), link: link))
        }
        var records: [ServiceDNSRecord] = []
        for s in 0..<Int.random(in: 1...8, using: &rng) {
            var record = ServiceDNSRecord(key: ServiceKey(namespace: "ns", name: "svc\(s)"))
            record.status.headless = Int.random(in: 0..<4, using: &rng) == 0
            record.status.ports = [ServicePort(name: "http", protocol: "TCP", port: 80)]
            let useLB = Bool.random(using: &rng)
            for (i, info) in clusters.enumerated() where Bool.random(using: &rng) {
                let ready = Int.random(in: 0...2, using: &rng)
                let endpoints = (0..<2).map { Endpoint(address: IPAddress("10.\(i).\(100 + s).\($0)")!, ready: $0 < ready) }
                record.status.dns.append(ClusterDNS(
                    cluster: info.id, region: info.locality.region, zones: [info.locality.zone],
                    loadBalancer: useLB && !record.status.headless ? [LoadBalancerIngress(ip: IPAddress("192.0.\(i).\(s)")!)] : [],
                    clusterIPs: record.status.headless ? [] : [IPAddress("10.\(i).0.\(s)")!], endpoints: endpoints,
                    readyEndpoints: ready))
            }
            records.append(record)
        }
        return World(clusters: clusters, records: records)
    }

    /// Follows an answer: the owners of its CNAME chain and the final addresses.
    static func follow(_ table: AnswerTable, _ name: DomainName) throws -> (rcode: RCode, chain: [String], addresses: Set<String>) {
        let query = try Message.query(name: name, type: .a)
        var output = [UInt8](repeating: 0, count: 65535)
        let length = query.withUnsafeBytes { q in output.withUnsafeMutableBytes { table.respond(to: q, transport: .tcp, into: $0) } }
        let m = try Message(wire: Array(output[..<length]))
        var chain: [String] = []
        var addresses = Set<String>()
        for line in m.answer {
            let fields = line.split(separator: "\t")
            if fields[3] == "CNAME" { chain.append(fields[0].lowercased()) }
            if fields[3] == "A" { addresses.insert(String(fields[4])) }
        }
        return (m.rcode, chain, addresses)
    }

    static func cluster(of address: String) -> Int? {
        let parts = address.split(separator: ".").compactMap { Int($0) }
        guard parts.count == 4 else { return nil }
        return parts[0] == 10 ? parts[1] : parts[2]
    }

    /// CPU-bound: it yields between steps so that, in a parallel run on two cores, the async tests that wait on
    /// timeouts are not starved of the cooperative pool's threads.
    @Test(arguments: 0..<40)
    func tablesStayCoherent(seed: UInt64) async throws {
        var rng = SplitMix64(state: seed)
        let naming = LiveNamesTests.naming
        let (a, _) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        let (b, _) = ZoneFile.parse(Fixture.clusterset, origin: try DomainName("clusterset.local"))
        let live = try LiveTable(zones: [try #require(a), try #require(b)], naming: naming)
        var serial: UInt32 = 1
        var lastSerial: UInt32 = 0
        for round in 0..<4 {
            await Task.yield()
            let world = Self.world(&rng)
            let removed = round == 0 ? [] : Array(live.records.keys.filter { key in !world.records.contains { $0.key == key } })
            let table = try live.apply(RecordChanges(upserted: world.records, removed: removed, clusters: world.clusters),
                                       serial: serial)
            #expect(table.serial > lastSerial)
            lastSerial = table.serial
            serial += UInt32.random(in: 1...3, using: &rng)

            let offline = Set(world.clusters.enumerated().filter { $0.element.link == .offline }.map(\.offset))
            for (key, names) in live.namesByService {
                await Task.yield()
                let record = world.records.first { $0.key == key }!
                for name in names {
                    let (rcode, chain, addresses) = try Self.follow(table, name)
                    #expect(rcode == .noError, "seed \(seed): \(name) answered rcode \(rcode)")
                    #expect(Set(chain).count == chain.count && chain.count <= 3, "seed \(seed): CNAME loop at \(name)")
                    for address in addresses {
                        #expect(!offline.contains(Self.cluster(of: address) ?? -1),
                                "seed \(seed): \(address) of an offline cluster at \(name)")
                    }
                }
                // Every healthy target appears at the global level.
                let global = try DomainName("\(key.name).\(key.namespace).acme.svc.example.com")
                var expected = Set<String>()
                for dns in record.status.dns {
                    let index = Int(dns.cluster.rawValue.dropFirst())!
                    guard !offline.contains(index), dns.readyEndpoints > 0 else { continue }
                    if record.status.headless {
                        expected.formUnion(dns.endpoints.filter(\.ready).map(\.address.description))
                    } else {
                        expected.formUnion((dns.loadBalancer.isEmpty ? dns.clusterIPs : dns.loadBalancer.compactMap(\.ip)).map(\.description))
                    }
                }
                #expect(try Self.follow(table, global).addresses == expected, "seed \(seed): global answer of \(key)")
            }
        }
    }
}
