@testable import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// Answers with several records of one RRset at a generated name rotate from query to query (README, "Traffic
/// policies"): the server carries a turn counter in `ResponseOutcome` and each answer starts one record later.
@Suite struct RotationTests {
    static let clusters = [
        ClusterInfo(id: "east-1", locality: Locality(region: "us-east-1", zone: "us-east-1a"), link: .synced),
        ClusterInfo(id: "east-2", locality: Locality(region: "us-east-1", zone: "us-east-1b"), link: .synced),
        ClusterInfo(id: "west-1", locality: Locality(region: "us-west-2", zone: "us-west-2a"), link: .synced),
    ]

    static func web(headless: Bool = false) -> ServiceDNSRecord {
        let dns = [("east-1", "us-east-1", "us-east-1a", "192.0.2.11", "2001:db8::11"),
                   ("east-2", "us-east-1", "us-east-1b", "192.0.2.12", "2001:db8::12"),
                   ("west-1", "us-west-2", "us-west-2a", "198.51.100.21", "2001:db8::21")].map { id, region, zone, v4, v6 in
            ClusterDNS(cluster: ClusterID(id), region: region, zones: [zone],
                       loadBalancer: [LoadBalancerIngress(ip: IPAddress(v4)!), LoadBalancerIngress(ip: IPAddress(v6)!)],
                       clusterIPs: [IPAddress("10.\(id.count).0.10")!],
                       endpoints: (1...2).map { Endpoint(address: IPAddress("10.\(v4.count).5.\($0)")!, hostname: "\(id)-pod-\($0)") },
                       readyEndpoints: 2)
        }
        return ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "web"),
                                status: .init(dns: dns, headless: headless,
                                              ports: [ServicePort(name: "http", protocol: "TCP", port: 80)]))
    }

    static let global = "web.shop.acme.svc.example.com"

    static func table(rotate: Bool = true, headless: Bool = false, subnets: [RequesterSubnet] = []) throws -> AnswerTable {
        let naming = NamingConfiguration(federationName: "acme", federationDomain: try DomainName("example.com"),
                                         clustersetDomain: try DomainName("clusterset.local"),
                                         requesterSubnets: subnets)
        let (a, _) = ZoneFile.parse(Fixture.example + "multi IN A 192.0.2.1\nmulti IN A 192.0.2.2\nmulti IN A 192.0.2.3\n",
                                    origin: try DomainName("example.com"))
        let (b, _) = ZoneFile.parse(Fixture.clusterset, origin: try DomainName("clusterset.local"))
        let live = try LiveTable(zones: [try #require(a), try #require(b)], naming: naming,
                                 options: ServingOptions(rotate: rotate))
        let table = try live.apply(RecordChanges(upserted: [web(headless: headless)], clusters: clusters), serial: 2)
        #expect(table.validate() == [])
        return table
    }

    /// The answer and additional sections of `count` consecutive answers, the turn carried between them.
    static func ask(_ table: AnswerTable, _ name: String, _ type: RRType, count: Int, transport: Transport = .udp,
                    source: RequesterAddress = .unknown) throws -> [(answer: [String], additional: [String])] {
        let packet = try Message.query(name: try DomainName(name), type: type, edns: (1232, 0, false, []))
        var outcome = ResponseOutcome()
        var output = [UInt8](repeating: 0, count: 65535)
        var result: [(answer: [String], additional: [String])] = []
        for _ in 0..<count {
            var qtype = RRType.reserved
            let length = packet.withUnsafeBytes { input in
                output.withUnsafeMutableBytes {
                    table.respond(to: input, transport: transport, source: source, into: $0, qtype: &qtype,
                                  outcome: &outcome, cookies: .disabled)
                }
            }
            let message = try Message(wire: Array(output[..<length]))
            result.append((message.answer.map(Self.rdata), message.additional))
        }
        return result
    }

    static func rdata(_ record: String) -> String { String(record.split(separator: "\t").last ?? "") }

    @Test func eachAddressOfAGeneratedNameComesFirstInTurnAndTheSetStaysWhole() throws {
        let table = try Self.table()
        for (type, addresses) in [(RRType.a, ["192.0.2.11", "192.0.2.12", "198.51.100.21"]),
                                  (.aaaa, ["2001:db8::11", "2001:db8::12", "2001:db8::21"])] {
            let answers = try Self.ask(table, Self.global, type, count: 6)
            // Each answer is the whole set in the compiled order, started one record later each time.
            for (turn, answer) in answers.enumerated() {
                let shift = turn % 3
                #expect(answer.answer == Array(addresses[shift...] + addresses[..<shift]), "turn \(turn)")
            }
        }
    }

    @Test func overTCPTooAndForARequestersOwnAnswer() throws {
        // Loopback sits in east-1: its variant (east-1 first, then nearest levels) has one address per type.
        let subnet = RequesterSubnet(network: try #require(IPNetwork("10.0.0.0/8")), cluster: "east-1")
        let table = try Self.table(subnets: [subnet])
        let tcp = try Self.ask(table, Self.global, .a, count: 3, transport: .tcp)
        #expect(Set(tcp.map { $0.answer.first ?? "" }) == ["192.0.2.11", "192.0.2.12", "198.51.100.21"])
        // The region name of us-east-1 holds two clusters: they take turns.
        let region = try Self.ask(table, "web.shop.acme.svc.us-east-1.example.com", .a, count: 4,
                                  source: .ipv4(0x0A01_0203))
        #expect(region.map { $0.answer } == [["192.0.2.11", "192.0.2.12"], ["192.0.2.12", "192.0.2.11"],
                                               ["192.0.2.11", "192.0.2.12"], ["192.0.2.12", "192.0.2.11"]])
    }

    @Test func headlessSRVTargetsRotateAndTheAdditionalSectionStaysRight() throws {
        let table = try Self.table(headless: true)
        let name = "_http._tcp.web.shop.svc.clusterset.local"
        let answers = try Self.ask(table, name, .srv, count: 6)
        let targets = answers.map { $0.answer.map { $0.split(separator: " ").last.map(String.init) ?? "" } }
        #expect(targets[0].count == 6)
        for (turn, answer) in targets.enumerated() {
            #expect(answer == Array(targets[0][(turn % 6)...] + targets[0][..<(turn % 6)]), "turn \(turn)")
            #expect(Set(answer) == Set(targets[0]))
        }
        // Every additional record still names one of the targets (the pointers were not moved).
        for answer in answers {
            for record in answer.additional {
                let owner = String(record.split(separator: "\t").first ?? "")
                #expect(targets[0].contains(owner), "\(record)")
            }
        }
    }

    @Test func staticZonesAndRotateOffKeepTheCompiledOrder() throws {
        let table = try Self.table()
        let file = try Self.ask(table, "multi.example.com", .a, count: 3)
        #expect(file.allSatisfy { $0.answer == ["192.0.2.1", "192.0.2.2", "192.0.2.3"] })
        let off = try Self.table(rotate: false)
        let answers = try Self.ask(off, Self.global, .a, count: 3)
        #expect(answers.allSatisfy { $0.answer == ["192.0.2.11", "192.0.2.12", "198.51.100.21"] })
    }

    @Test func validateReportsARotationPointOffARecordsStart() throws {
        let table = try Self.table()
        #expect(table.validate() == [])
        #expect(table.damageRotationForTesting())
        let problems = table.validate()
        #expect(problems.contains { $0.contains("rotation point 1 is not a record's start") }, "\(problems)")
    }

    @Test func aSingleAnswerCalledWithoutATurnIsTheCompiledOrder() throws {
        // The plain `respond` starts every query at turn 0 (the reference model compares that order).
        let table = try Self.table()
        let packet = try Message.query(name: try DomainName(Self.global), type: .a)
        for _ in 0..<3 {
            var output = [UInt8](repeating: 0, count: 512)
            let length = packet.withUnsafeBytes { input in output.withUnsafeMutableBytes { table.respond(to: input, transport: .udp, into: $0) } }
            let message = try Message(wire: Array(output[..<length]))
            #expect(message.answer.map(Self.rdata) == ["192.0.2.11", "192.0.2.12", "198.51.100.21"])
        }
    }
}
