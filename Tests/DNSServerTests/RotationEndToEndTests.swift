import DNSAnswer
import DNSServer
import DNSTestSupport
import DNSWire
import Foundation
import MCDNSModel
import RecordStore
import Testing

/// Rotation through real clients: dig asks a running server 10,000 times over UDP (two worker threads) and a few
/// hundred times over TCP, and each address of the global name comes first a third of the time.
@Suite struct RotationEndToEndTests {
    static let addresses = ["192.0.2.11", "192.0.2.12", "198.51.100.21"]
    static let global = "web.shop.acme.svc.example.com"

    static func store(rotate: Bool) throws -> RecordStore {
        let (zone, errors) = ZoneFile.parse(RequesterSourceTests.zone, origin: try DomainName("example.com"))
        #expect(errors.isEmpty)
        let naming = NamingConfiguration(federationName: "acme", federationDomain: try DomainName("example.com"))
        let live = try LiveTable(zones: [try #require(zone)], naming: naming, options: ServingOptions(rotate: rotate))
        let clusters = zip(["east-1", "east-2", "west-1"], ["us-east-1", "us-east-1", "us-west-2"]).map { id, region in
            ClusterInfo(id: ClusterID(id), locality: Locality(region: region, zone: region + "a"), link: .synced)
        }
        let record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "web"), status: .init(dns: zip(clusters, addresses).map { info, address in
            ClusterDNS(cluster: info.id, region: info.locality.region, zones: [info.locality.zone],
                       loadBalancer: [LoadBalancerIngress(ip: IPAddress(address)!)], endpoints: [Endpoint(address: "10.0.0.1")],
                       readyEndpoints: 1)
        }))
        return RecordStore(initial: try live.apply(RecordChanges(upserted: [record], clusters: clusters), serial: 2))
    }

    /// How often each address came first in `count` answers of dig's batch mode (`-f`: one dig, many queries).
    static func firstAddresses(_ address: ListenAddress, count: Int, tcp: Bool = false) async throws -> [String: Int] {
        let directory = try TemporaryDirectory(prefix: "mcdns-rotation")
        let batch = directory.path + "/queries"
        try String(repeating: "\(global) A\n", count: count).write(toFile: batch, atomically: true, encoding: .utf8)
        let output = try await ServerFixture.dig(address, ["-f", batch, "+short"] + (tcp ? ["+tcp"] : []),
                                                   timeout: .seconds(120))
        // +short prints each answer's three addresses, one a line, answer after answer. Rarely dig's socket gets its
        // own query back (its source port was the server's port: see `Dig`) and prints a warning for it instead of
        // an answer; that query never reached the server, so it is left out.
        let lines = output.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(";") }
        #expect(lines.count % 3 == 0 && lines.count >= 3 * (count - 3), "\(lines.count) lines for \(count) answers")
        var first: [String: Int] = [:]
        for answer in stride(from: 0, to: lines.count - 2, by: 3) {
            #expect(Set(lines[answer..<(answer + 3)]) == Set(addresses))
            first[lines[answer], default: 0] += 1
        }
        return first
    }

    @Test func overTenThousandUDPQueriesEachAddressComesFirstAThirdOfTheTime() async throws {
        let configuration = try DNSServerConfiguration(listen: ["127.0.0.1:0"], udpThreadsPerAddress: 2)
        try await ServerFixture.withService(configuration, store: try Self.store(rotate: true)) { (addresses: [ListenAddress]) async throws in
            let count = 10_000
            let first = try await Self.firstAddresses(addresses[0], count: count)
            #expect(Set(first.keys) == Set(Self.addresses))
            for (address, times) in first {
                // Even within ±3 percentage points of a third.
                let answered = first.values.reduce(0, +)
                #expect(abs(Double(times) / Double(answered) - 1.0 / 3.0) <= 0.03, "\(address) first \(times) times of \(answered)")
            }
            // TCP: every connection's answer takes the next turn of its event loop.
            let tcp = try await Self.firstAddresses(addresses[0], count: 300, tcp: true)
            #expect(Set(tcp.keys) == Set(Self.addresses), "\(tcp)")
        }
    }

    @Test func withRotateOffTheOrderNeverChanges() async throws {
        let configuration = try DNSServerConfiguration(listen: ["127.0.0.1:0"], udpThreadsPerAddress: 1)
        try await ServerFixture.withService(configuration, store: try Self.store(rotate: false)) { (addresses: [ListenAddress]) async throws in
            let first = try await Self.firstAddresses(addresses[0], count: 300)
            #expect(first.count == 1 && (first[Self.addresses[0]] ?? 0) >= 297, "\(first)")
        }
    }
}
