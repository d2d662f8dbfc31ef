@testable import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// A service's names share a shard (the shard is picked by a name's first two labels, labels starting with `_`
/// left out): a change to the service rebuilds one shard, and names that end another share its bytes. Each name's
/// answers are its own there, also where two names answer with the same bytes.
@Suite struct ServiceShardTests {
    static let naming = NamingConfiguration(federationName: "acme", federationDomain: try! DomainName("example.com"),
                                            clustersetDomain: try! DomainName("clusterset.local"))
    static let cluster = ClusterInfo(id: "m7", locality: Locality(region: "r3", zone: "r3z1"), link: .synced)

    static func record(_ addresses: [String], name: String = "web") -> ServiceDNSRecord {
        ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: name), status: .init(
            dns: [ClusterDNS(cluster: "m7", region: "r3", zones: ["r3z1"], clusterIPs: [],
                             endpoints: addresses.map { Endpoint(address: IPAddress($0)!, ready: true) },
                             readyEndpoints: addresses.count)],
            headless: true, ports: [ServicePort(name: "http", protocol: "TCP", port: 8080)]))
    }

    static func table(_ records: [ServiceDNSRecord]) throws -> (LiveTable, AnswerTable) {
        let (a, _) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        let (b, _) = ZoneFile.parse(Fixture.clusterset, origin: try DomainName("clusterset.local"))
        let live = try LiveTable(zones: [try #require(a), try #require(b)], naming: naming)
        let table = try live.apply(RecordChanges(upserted: records, clusters: [cluster]), serial: 2)
        return (live, table)
    }

    static let aNames = ["web.shop.acme.svc.example.com", "web.shop.acme.svc.r3.example.com",
                         "web.shop.acme.svc.r3z1.r3.example.com", "web.shop.svc.clusterset.local"]

    /// The shard of `name` and the template its A answer uses there.
    static func aTemplate(_ table: AnswerTable, _ name: String) throws -> (shard: Int, template: Int32) {
        let key = try DomainName(name).key
        let index = AnswerTable.shard(of: NameHash.group(key))
        let shard = table.shards[index]
        let node = shard.find(name: name)
        try #require(node >= 0)
        return (index, shard.template(node: node, qtype: RRType.a))
    }

    @Test func theGroupHashTakesTheFirstTwoLabelsWithoutUnderscores() throws {
        func group(_ name: String) throws -> UInt32 { NameHash.group(try DomainName(name).key) }
        #expect(try group("web.shop.acme.svc.example.com") == group("web.shop.svc.clusterset.local"))
        #expect(try group("_http._tcp.web.shop.svc.clusterset.local") == group("web.shop.svc.clusterset.local"))
        #expect(try group("WEB.Shop.x") == group("web.shop.y"))
        #expect(try group("web.shop.x") != group("web.shops.x"))
        #expect(try group("web.shop.x") != group("shop.web.x"))
        // Label boundaries count: `ab.c` is not `a.bc`.
        #expect(try group("ab.c.x") != group("a.bc.x"))
        // One label, the root, names of underscores only: whatever there is.
        #expect(try group("com") != group("net"))
        #expect(NameHash.group([0]) == NameHash.seed)
        #expect(try group("_a._b") == NameHash.seed)
        // The query path hashes a wildcard as `*` then one label of the encloser: the same as the compile.
        let suffix = try DomainName("_tcp.foo.example.com").key
        let wildcard = try DomainName("*._tcp.foo.example.com").key
        let query = suffix.withUnsafeBytes {
            NameHash.group($0, from: 0, to: $0.count, seed: NameHash.wildcardSeed, labels: 1)
        }
        #expect(query == NameHash.group(wildcard))
    }

    @Test func aServicesNamesShareOneShardAndKeepTheirOwnAnswers() throws {
        let (_, table) = try Self.table([Self.record(["10.7.1.0", "10.7.1.1", "10.7.1.2"])])
        let found = try Self.aNames.map { try Self.aTemplate(table, $0) }
        #expect(Set(found.map(\.shard)).count == 1)
        // Four templates for the four A answers, though their bytes are the same (the owner points at the
        // question): a template is one node's.
        #expect(Set(found.map(\.template)).count == 4 && found.allSatisfy { $0.template >= 0 })
        let shard = table.shards[found[0].shard]
        let bodies = found.map { name -> [UInt8] in
            let (entry, bytes, _) = shard.template(Int(name.template))
            return Array(UnsafeRawBufferPointer(start: bytes.advanced(by: Int(entry.bodyStart)), count: Int(entry.bodyLength)))
        }
        #expect(Set(bodies).count == 1)
        let srv = try DomainName("_http._tcp.web.shop.svc.clusterset.local").key
        #expect(AnswerTable.shard(of: NameHash.group(srv)) == found[0].shard)
        for name in Self.aNames {
            let asked = name.uppercased()
            let answer = try table.ask(asked, .a)
            #expect(answer.rcode == .noError && answer.aa)
            #expect(answer.answer.sorted() == ["10.7.1.0", "10.7.1.1", "10.7.1.2"].map { "\(asked).\t30\tIN\tA\t\($0)" })
        }
        // An update copies the shard's entries as they are: the same size, each name still with its own answers
        // and its own type entries, and the copy as sound as the shard.
        let origins = table.zoneOrigins.map(\.key)
        let copy = try #require(ShardPacker.rebuild(shard, replacing: [], with: [], origins: origins))
        #expect(copy.byteCount == shard.byteCount)
        let copied = Self.aNames.map { copy.template(node: copy.find(name: $0), qtype: RRType.a) }
        #expect(Set(copied).count == 4)
        for shard in [shard, copy] {
            let runs = Self.aNames.map { shard.node(Int(shard.find(name: $0))) }.map { [$0.typesStart, UInt32($0.typesCount)] }
            #expect(Set(runs).count == 4 && runs.allSatisfy { $0[1] == 1 })
            #expect(shard.validate(index: found[0].shard, origins: origins, sharedCount: Int(table.shared.layout.templateCount)) == [])
        }
    }

    /// A stored name that ends another one is kept inside that one's bytes: every name is still found, and
    /// spelled whole, in a fresh shard and in a copy.
    @Test func everyNameKeepsBytesOfItsOwnThroughRebuilds() throws {
        let origin = try DomainName("example.com").key
        let stems = ["_http._tcp.web.shop", "_tcp.web.shop", "web.shop", "shop", "other.web.shop", "xweb.shop"]
        let names = try stems.map { try DomainName("\($0).example.com") } + [try DomainName("example.com")]
        var packer = ShardPacker(capacity: names.count, origins: [origin])
        for name in names {
            packer.add(PendingNode(name: name, zone: 0, types: [], variants: [], fallback: nil, sharedFallback: -1,
                                   delegated: false, hasWildcardChild: false))
        }
        let shard = packer.finish()
        for name in names {
            let index = shard.find(name: name.description)
            #expect(index >= 0, "\(name)")
            if index >= 0 { #expect(shard.fullName(of: shard.node(Int(index))) == name.key) }
        }
        // Each name's bytes below the origin, then the origin once, padded to 8 bytes.
        let stored = try stems.map { try DomainName("\($0).example.com").key.count - origin.count }.reduce(0, +)
        #expect(Int(shard.layout.origins - shard.layout.names) == (stored + origin.count + 7) & ~7)
        let copy = try #require(ShardPacker.rebuild(shard, replacing: [names[0]], with: [], origins: [origin]))
        #expect(copy.find(name: names[0].description) == -1)
        for name in names.dropFirst() {
            let index = copy.find(name: name.description)
            #expect(index >= 0, "\(name)")
            if index >= 0 { #expect(copy.fullName(of: copy.node(Int(index))) == name.key) }
        }
    }

    /// A change to one service's answers reaches all of its names and leaves another's.
    @Test func differentAnswersStayApartThroughUpdates() throws {
        let (live, table) = try Self.table([Self.record(["10.7.1.0"]), Self.record(["10.7.2.0"], name: "api")])
        #expect(table.validate() == [])
        let updated = try live.apply(RecordChanges(upserted: [Self.record(["10.7.1.9", "10.7.1.8"])]), serial: 3)
        for name in Self.aNames {
            #expect(try updated.ask(name, .a).answer.sorted()
                == ["\(name).\t30\tIN\tA\t10.7.1.8", "\(name).\t30\tIN\tA\t10.7.1.9"])
        }
        #expect(try updated.ask("api.shop.acme.svc.r3.example.com", .a).answer
            == ["api.shop.acme.svc.r3.example.com.\t30\tIN\tA\t10.7.2.0"])
        #expect(try updated.ask("web.shop.acme.svc.example.com", .srv).rcode == .noError)
    }
}
