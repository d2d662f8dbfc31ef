import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// The worked example of issue 3: three clusters in two regions, then trouble one step at a time.
@Suite struct LiveNamesTests {
    static let naming = NamingConfiguration(
        federationName: "acme", federationDomain: try! DomainName("example.com"),
        clustersetDomain: try! DomainName("clusterset.local"), recordTTL: 30, degradedTTL: 5, negativeTTL: 7,
        requesterSubnets: [RequesterSubnet(network: IPNetwork("10.1.0.0/16")!, cluster: "east-1"),
                           RequesterSubnet(network: IPNetwork("10.3.0.0/16")!, cluster: "west-1")])

    static let clusters = [
        ClusterInfo(id: "east-1", locality: Locality(region: "us-east-1", zone: "us-east-1a"), link: .synced),
        ClusterInfo(id: "east-2", locality: Locality(region: "us-east-1", zone: "us-east-1b"), link: .synced),
        ClusterInfo(id: "west-1", locality: Locality(region: "us-west-2", zone: "us-west-2a"), link: .synced),
    ]

    static func dns(_ id: String, _ region: String, _ zone: String?, lb: IPAddress, clusterIP: IPAddress, ready: Int = 3) -> ClusterDNS {
        ClusterDNS(cluster: ClusterID(id), region: region, zones: zone.map { [$0] } ?? [],
                   loadBalancer: [LoadBalancerIngress(ip: lb)], clusterIPs: [clusterIP],
                   endpoints: (0..<3).map { Endpoint(address: IPAddress("10.9.\(id.count).\($0)")!, ready: $0 < ready) },
                   readyEndpoints: ready)
    }

    static func web(_ dns: [ClusterDNS]) -> ServiceDNSRecord {
        ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "web"),
                         status: .init(dns: dns, ports: [ServicePort(name: "http", protocol: "TCP", port: 80)]))
    }

    static let healthy = [
        dns("east-1", "us-east-1", "us-east-1a", lb: "192.0.2.11", clusterIP: "10.1.0.10"),
        dns("east-2", "us-east-1", "us-east-1b", lb: "192.0.2.12", clusterIP: "10.2.0.10"),
        dns("west-1", "us-west-2", "us-west-2a", lb: "198.51.100.21", clusterIP: "10.3.0.10"),
    ]

    func live() throws -> LiveTable {
        let (a, _) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        let (b, _) = ZoneFile.parse(Fixture.clusterset, origin: try DomainName("clusterset.local"))
        return try LiveTable(zones: [try #require(a), try #require(b)], naming: Self.naming)
    }

    /// (rcode, sorted answer records "owner ttl type rdata" with tabs folded to spaces).
    func query(_ table: AnswerTable, _ name: String, _ type: RRType = .a, options: [UInt8]? = nil,
               source: RequesterAddress = .unknown) throws -> (RCode, [String], [String]) {
        let packet = try Message.query(name: try DomainName(name), type: type,
                                       edns: options.map { (1232, 0, false, $0) })
        var output = [UInt8](repeating: 0, count: 65535)
        let length = packet.withUnsafeBytes { input in
            output.withUnsafeMutableBytes { table.respond(to: input, transport: .udp, source: source, into: $0) }
        }
        let m = try Message(wire: Array(output[..<length]))
        let fold = { (s: String) in s.split(separator: "\t").joined(separator: " ").lowercased() }
        return (m.rcode, m.answer.map(fold).sorted(), m.authority.map(fold))
    }

    let g = "web.shop.acme.svc.example.com"

    /// Load balancers with hostnames only (as AWS gives them): the global name is a CNAME, and a known requester
    /// gets the nearest cluster's hostname for every type it asks, not only for CNAME and ANY. Before, the
    /// requester's variant had entries for those two types alone, and an A query fell through to everyone's
    /// CNAME, the first cluster's (issue 21, found by ModelBasedTests).
    @Test func aKnownRequesterGetsTheNearestLoadBalancerHostnameForEveryType() throws {
        let live = try live()
        var east = Self.dns("east-1", "us-east-1", "us-east-1a", lb: "192.0.2.11", clusterIP: "10.1.0.10")
        east.loadBalancer = [LoadBalancerIngress(hostname: "east.elb.example.net")]
        var west = Self.dns("west-1", "us-west-2", "us-west-2a", lb: "198.51.100.21", clusterIP: "10.3.0.10")
        west.loadBalancer = [LoadBalancerIngress(hostname: "west.elb.example.net")]
        let table = try live.apply(RecordChanges(upserted: [Self.web([east, west])], clusters: Self.clusters), serial: 2)
        let asWest: [UInt8] = [0xFF, 0xEE, 0, 6] + Array("west-1".utf8)
        for type in [RRType.a, .aaaa, .cname, .any, .txt, .mx] {
            #expect(try query(table, g, type).1 == ["\(g). 30 in cname east.elb.example.net."], "\(type)")
            #expect(try query(table, g, type, options: asWest).1 == ["\(g). 30 in cname west.elb.example.net."],
                    "\(type)")
        }
    }

    @Test func workedExample() throws {
        let live = try live()
        var table = try live.apply(RecordChanges(upserted: [Self.web(Self.healthy)], clusters: Self.clusters), serial: 2)

        // Everything healthy.
        #expect(try query(table, g).1 == ["\(g). 30 in a 192.0.2.11", "\(g). 30 in a 192.0.2.12", "\(g). 30 in a 198.51.100.21"])
        let r1 = "web.shop.acme.svc.us-east-1.example.com"
        #expect(try query(table, r1).1 == ["\(r1). 30 in a 192.0.2.11", "\(r1). 30 in a 192.0.2.12"])
        let z1 = "web.shop.acme.svc.us-east-1a.us-east-1.example.com"
        #expect(try query(table, z1).1 == ["\(z1). 30 in a 192.0.2.11"])
        let cs = "web.shop.svc.clusterset.local"
        #expect(try query(table, cs).1 == ["\(cs). 30 in a 10.1.0.10", "\(cs). 30 in a 10.2.0.10", "\(cs). 30 in a 10.3.0.10"])
        #expect(try query(table, "_http._tcp." + cs, .srv).1 == ["_http._tcp.\(cs). 30 in srv 0 100 80 \(cs)."])
        #expect(try query(table, "east-1." + cs).0 == .nxDomain)  // <clusterid>.<svc> must not exist for a non-headless service
        #expect(try query(table, "nothing.shop.acme.svc.example.com").0 == .nxDomain)
        #expect(table.serial == 2)

        // east-1 loses all endpoints: its zone falls back to the region (degraded TTL), chased in one answer.
        var step2 = Self.healthy
        step2[0].readyEndpoints = 0
        table = try live.apply(RecordChanges(upserted: [Self.web(step2)]), serial: 3)
        #expect(try query(table, z1).1 == ["\(r1). 30 in a 192.0.2.12", "\(z1). 5 in cname \(r1)."])
        #expect(try query(table, g).1 == ["\(g). 30 in a 192.0.2.12", "\(g). 30 in a 198.51.100.21"])

        // east-2 goes offline: the whole region falls back to the global name.
        var offline = Self.clusters
        offline[1].link = .offline
        table = try live.apply(RecordChanges(clusters: offline), serial: 4)
        #expect(try query(table, r1).1 == ["\(g). 30 in a 198.51.100.21", "\(r1). 5 in cname \(g)."])
        let z2 = "web.shop.acme.svc.us-east-1b.us-east-1.example.com"
        #expect(try query(table, z2).1 == ["\(g). 30 in a 198.51.100.21", "\(r1). 5 in cname \(g).", "\(z2). 5 in cname \(r1)."])
        #expect(try query(table, cs).1 == ["\(cs). 30 in a 10.3.0.10"])

        // west-1 has no zone label: it lands in `unknown` and nothing else is blanked.
        var step4 = step2
        step4[2].zones = []
        table = try live.apply(RecordChanges(upserted: [Self.web(step4)]), serial: 5)
        let unknown = "web.shop.acme.svc.unknown.us-west-2.example.com"
        #expect(try query(table, unknown).1 == ["\(unknown). 30 in a 198.51.100.21"])
        #expect(try query(table, g).1 == ["\(g). 30 in a 198.51.100.21"])

        // Nothing healthy anywhere: the global name answers NODATA with the short negative TTL, never NXDOMAIN.
        var none = step4
        none[2].readyEndpoints = 0
        table = try live.apply(RecordChanges(upserted: [Self.web(none)]), serial: 6)
        let nodata = try query(table, g)
        #expect(nodata.0 == .noError)
        #expect(nodata.1.isEmpty)
        #expect(nodata.2.first?.hasPrefix("example.com. 7 in soa") == true)
        #expect(nodata.2.first?.contains(" 6 7200 3600") == true)  // SOA serial = snapshot generation

        // The service goes away: NXDOMAIN everywhere, empty non-terminals gone too.
        table = try live.apply(RecordChanges(removed: [ServiceKey(namespace: "shop", name: "web")]), serial: 7)
        #expect(try query(table, g).0 == .nxDomain)
        #expect(try query(table, "shop.acme.svc.example.com").0 == .nxDomain)
        #expect(try query(table, cs).0 == .nxDomain)
        #expect(try query(table, "www.example.com").1 == ["www.example.com. 300 in a 192.0.2.80"])
    }

    @Test func knownRequestersGetTheNearestTargets() throws {
        let live = try live()
        let table = try live.apply(RecordChanges(upserted: [Self.web(Self.healthy)], clusters: Self.clusters), serial: 2)
        let option = { (name: String) in [0xFF, 0xEE, 0, UInt8(name.utf8.count)] + Array(name.utf8) }
        #expect(try query(table, g, options: option("east-2")).1 == ["\(g). 30 in a 192.0.2.12"])
        #expect(try query(table, g, options: option("EAST-1")).1 == ["\(g). 30 in a 192.0.2.11"])
        #expect(try query(table, g, options: option("nobody")).1.count == 3)
        #expect(try query(table, g, source: .ipv4(0x0A01_0203)).1 == ["\(g). 30 in a 192.0.2.11"])
        #expect(try query(table, g, source: .ipv4(0x0A05_0203)).1.count == 3)
        // ECS 10.3.7.0/24 lies in west-1's 10.3.0.0/16: answered for west-1, scope 16 in the reply.
        let ecs: [UInt8] = [0, 8, 0, 7, 0, 1, 24, 0, 10, 3, 7]
        #expect(try query(table, g, options: ecs).1 == ["\(g). 30 in a 198.51.100.21"])
        let packet = try Message.query(name: try DomainName(g), type: .a, edns: (1232, 0, false, ecs))
        let reply = try Message(wire: table.respond(raw: packet))
        #expect(reply.edns?.optionsData == [0, 8, 0, 7, 0, 1, 24, 16, 10, 3, 7])
        // The private option is never echoed.
        let privately = try Message(wire: table.respond(raw: try Message.query(name: try DomainName(g), type: .a,
                                                                              edns: (1232, 0, false, option("east-1")))))
        #expect(privately.edns?.optionsData == [])
        // clusterset: every healthy cluster, nearest first for a known requester.
        let cs = "web.shop.svc.clusterset.local"
        let ordered = try Message(wire: table.respond(raw: try Message.query(name: try DomainName(cs), type: .a,
                                                                            edns: (1232, 0, false, option("west-1")))))
        #expect(ordered.answer.first?.hasSuffix("10.3.0.10") == true)
        #expect(ordered.answer.count == 3)
    }

    @Test func headlessServicesAndExternalNames() throws {
        let live = try live()
        var db = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "db"))
        db.status.headless = true
        db.status.ports = [ServicePort(name: "pg", protocol: "TCP", port: 5432), ServicePort(name: nil, protocol: "TCP", port: 9)]
        db.status.dns = [ClusterDNS(cluster: "east-1", region: "us-east-1", zones: ["us-east-1a"],
                                    endpoints: [Endpoint(address: "10.1.5.1", hostname: "db-0"),
                                                Endpoint(address: "10.1.5.2", hostname: "db-1", ready: false),
                                                Endpoint(address: "fd00::5")],
                                    readyEndpoints: 2)]
        var legacy = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "legacy"))
        legacy.status.externalTarget = "legacy.corp.example.net"
        legacy.spec.dnsPrefix = "old"
        let table = try live.apply(RecordChanges(upserted: [db, legacy], clusters: Self.clusters), serial: 2)
        let cs = "db.shop.svc.clusterset.local"
        #expect(try query(table, cs).1 == ["\(cs). 30 in a 10.1.5.1"])
        #expect(try query(table, cs, .aaaa).1 == ["\(cs). 30 in aaaa fd00::5"])
        #expect(try query(table, "db-0.east-1." + cs).1 == ["db-0.east-1.\(cs). 30 in a 10.1.5.1"])
        #expect(try query(table, "db-1.east-1." + cs).0 == .nxDomain)  // not ready: no name
        #expect(try query(table, "fd00--5.east-1." + cs, .aaaa).1 == ["fd00--5.east-1.\(cs). 30 in aaaa fd00::5"])
        #expect(try query(table, "_pg._tcp." + cs, .srv).1.count == 2)
        let legacyName = "legacy.shop.acme.svc.example.com"
        #expect(try query(table, legacyName).1 == ["\(legacyName). 30 in cname legacy.corp.example.net."])
        #expect(try query(table, "old.example.com").1 == ["\(legacyName). 30 in cname legacy.corp.example.net.",
                                                          "old.example.com. 30 in cname \(legacyName)."])

        // No ready endpoint anywhere: a headless clusterset name does not exist.
        db.status.dns[0].endpoints = db.status.dns[0].endpoints.map { var e = $0; e.ready = false; return e }
        db.status.dns[0].readyEndpoints = 0
        let after = try live.apply(RecordChanges(upserted: [db]), serial: 3)
        #expect(try query(after, cs).0 == .nxDomain)
        #expect(try query(after, "db-0.east-1." + cs).0 == .nxDomain)
    }

    /// Found by ModelBasedTests (seed 78380365130686): an ExternalName naming another service's global name
    /// answers with that service's records (in-zone chasing), and kept answering with them after that service was
    /// deleted, changed or before it was added, since only the changed service's own names were rendered again.
    @Test func anExternalNameChasingAnotherServiceFollowsItsChanges() throws {
        let live = try live()
        let target = "web.shop.acme.svc.example.com"
        var alias = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "alias"))
        alias.status.externalTarget = target
        let name = "alias.shop.acme.svc.example.com"
        // The alias first: its target does not exist yet.
        var table = try live.apply(RecordChanges(upserted: [alias], clusters: Self.clusters), serial: 2)
        #expect(try query(table, name).0 == .nxDomain)
        table = try live.apply(RecordChanges(upserted: [Self.web([Self.healthy[2]])]), serial: 3)
        #expect(try query(table, name).1 == ["\(name). 30 in cname \(target).", "\(target). 30 in a 198.51.100.21"])
        table = try live.apply(RecordChanges(upserted: [Self.web([Self.healthy[0]])]), serial: 4)
        #expect(try query(table, name).1 == ["\(name). 30 in cname \(target).", "\(target). 30 in a 192.0.2.11"])
        table = try live.apply(RecordChanges(removed: [ServiceKey(namespace: "shop", name: "web")]), serial: 5)
        let gone = try query(table, name)
        #expect(gone.0 == .nxDomain)
        #expect(gone.1 == ["\(name). 30 in cname \(target)."])
        #expect(live.validate().isEmpty)
    }

    /// DESIGN §4.2: ports are the union by (name, protocol, port) across clusters. Two clusters exporting `http`
    /// over TCP on different port numbers give one SRV RRset holding every port for every target; before, the
    /// table built one SRV name per port with the same owner and served only the last (8080), and the reference
    /// model kept the first (80).
    @Test func srvOfOnePortNameWithDifferentNumbersServesTheirUnion() throws {
        let live = try live()
        var web = Self.web(Self.healthy)
        web.status.ports = [ServicePort(name: "http", protocol: "TCP", port: 80),
                            ServicePort(name: "http", protocol: "TCP", port: 8080),
                            ServicePort(name: "http", protocol: "UDP", port: 8081),
                            ServicePort(name: nil, protocol: "TCP", port: 9)]
        var db = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "db"))
        db.status.headless = true
        db.status.ports = [ServicePort(name: "pg", protocol: "TCP", port: 5432),
                           ServicePort(name: "pg", protocol: "TCP", port: 5433)]
        db.status.dns = [ClusterDNS(cluster: "east-1", region: "us-east-1", zones: ["us-east-1a"],
                                    endpoints: [Endpoint(address: "10.1.5.1", hostname: "db-0")], readyEndpoints: 1),
                         ClusterDNS(cluster: "west-1", region: "us-west-2", zones: ["us-west-2a"],
                                    endpoints: [Endpoint(address: "10.3.5.1", hostname: "db-0")], readyEndpoints: 1)]
        var table = try live.apply(RecordChanges(upserted: [web, db], clusters: Self.clusters), serial: 2)
        let cs = "web.shop.svc.clusterset.local"
        #expect(try query(table, "_http._tcp." + cs, .srv).1 == ["_http._tcp.\(cs). 30 in srv 0 100 80 \(cs).",
                                                                 "_http._tcp.\(cs). 30 in srv 0 100 8080 \(cs)."])
        #expect(try query(table, "_http._udp." + cs, .srv).1 == ["_http._udp.\(cs). 30 in srv 0 100 8081 \(cs)."])
        let dbs = "db.shop.svc.clusterset.local"
        #expect(try query(table, "_pg._tcp." + dbs, .srv).1 == [
            "_pg._tcp.\(dbs). 30 in srv 0 100 5432 db-0.east-1.\(dbs).",
            "_pg._tcp.\(dbs). 30 in srv 0 100 5432 db-0.west-1.\(dbs).",
            "_pg._tcp.\(dbs). 30 in srv 0 100 5433 db-0.east-1.\(dbs).",
            "_pg._tcp.\(dbs). 30 in srv 0 100 5433 db-0.west-1.\(dbs).",
        ])
        // Ports play no part in the federation names.
        #expect(try query(table, g).1.count == 3)
        #expect(try query(table, g, .srv).1.isEmpty)
        #expect(live.problems[web.key] == nil && live.problems[db.key] == nil)
        #expect(live.validate().isEmpty)

        // The clusters come to agree on 8080: 80 is gone.
        web.status.ports = [ServicePort(name: "http", protocol: "TCP", port: 8080)]
        table = try live.apply(RecordChanges(upserted: [web]), serial: 3)
        #expect(try query(table, "_http._tcp." + cs, .srv).1 == ["_http._tcp.\(cs). 30 in srv 0 100 8080 \(cs)."])
        #expect(try query(table, "_http._udp." + cs, .srv).0 == .nxDomain)
        #expect(live.validate().isEmpty)
    }

    @Test func hostileNamesAndCollisionsNeverBreakTheTable() throws {
        let live = try live()
        let bad = ServiceDNSRecord(key: ServiceKey(namespace: String(repeating: "n", count: 70), name: "x"),
                                   status: .init(dns: [Self.healthy[0]]))
        var squatter = Self.web(Self.healthy)
        squatter.key = ServiceKey(namespace: "shop", name: "other")
        squatter.spec.dnsPrefix = "www"  // www.example.com is in the zone file: the file wins
        let table = try live.apply(RecordChanges(upserted: [bad, Self.web(Self.healthy), squatter], clusters: Self.clusters),
                                   serial: 2)
        #expect(live.problems[bad.key]?.first?.contains("cannot form a DNS name") == true)
        #expect(live.problems[squatter.key]?.first?.contains("the file wins") == true)
        #expect(try query(table, "www.example.com").1 == ["www.example.com. 300 in a 192.0.2.80"])
        #expect(try query(table, g).1.count == 3)
    }

    @Test func aNameTwoServicesWantGoesToTheFirstUntilItLetsGo() throws {
        let live = try live()
        func service(_ name: String, prefix: String) -> ServiceDNSRecord {
            var record = Self.web(Self.healthy)
            record.key = ServiceKey(namespace: "shop", name: name)
            record.spec.dnsPrefix = prefix
            return record
        }
        let vanity = "vanity.example.com"
        var table = try live.apply(RecordChanges(upserted: [service("first", prefix: "vanity"),
                                                            service("second", prefix: "vanity")],
                                                 clusters: Self.clusters), serial: 2)
        #expect(live.problems[ServiceKey(namespace: "shop", name: "second")]
            == ["vanity.example.com. is already served for shop/first"])
        #expect(try query(table, vanity).1.contains("\(vanity). 30 in cname first.shop.acme.svc.example.com."))

        // `first` goes and `third` comes in the same batch (it may take over first's internal number): the name
        // is gone, and `third` owns only its own.
        table = try live.apply(RecordChanges(upserted: [service("third", prefix: "other")],
                                             removed: [ServiceKey(namespace: "shop", name: "first")]), serial: 3)
        #expect(try query(table, vanity).0 == .nxDomain)
        #expect(try query(table, "other.example.com").1.contains("other.example.com. 30 in cname third.shop.acme.svc.example.com."))

        // Now `third` asks for the free name and gets it; `second`, compiled again, is told who has it.
        table = try live.apply(RecordChanges(upserted: [service("third", prefix: "vanity")]), serial: 4)
        table = try live.apply(RecordChanges(upserted: [service("second", prefix: "vanity")]), serial: 5)
        #expect(try query(table, vanity).1.contains("\(vanity). 30 in cname third.shop.acme.svc.example.com."))
        #expect(live.problems[ServiceKey(namespace: "shop", name: "second")]
            == ["vanity.example.com. is already served for shop/third"])
        #expect(try query(table, "other.example.com").0 == .nxDomain)
    }

    @Test func staleClustersAnswerWithTheDegradedTTL() throws {
        let live = try live()
        var stale = Self.clusters
        stale[2].link = .stale
        let table = try live.apply(RecordChanges(upserted: [Self.web(Self.healthy)], clusters: stale), serial: 2)
        let r2 = "web.shop.acme.svc.us-west-2.example.com"
        #expect(try query(table, r2).1 == ["\(r2). 5 in a 198.51.100.21"])
        #expect(try query(table, g).1.allSatisfy { $0.contains(". 5 in a") })
    }

    @Test func missingZonesAreAClearError() throws {
        let (a, _) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        #expect(throws: CompileError.missingZone(try DomainName("clusterset.local"), purpose: "clusterset domain")) {
            try LiveTable(zones: [try #require(a)], naming: Self.naming)
        }
    }
}
