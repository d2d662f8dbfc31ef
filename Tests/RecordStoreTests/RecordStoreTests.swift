import DNSAnswer
import DNSWire
import MCDNSModel
import RecordStore
import Testing

@Suite struct RecordStoreTests {
    static let zone = """
        $ORIGIN example.com.
        @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 60
        @ 300 IN NS ns1
        ns1 300 IN A 192.0.2.1

        """

    func store() throws -> RecordStore {
        let (zone, errors) = ZoneFile.parse(Self.zone, origin: try DomainName("example.com"))
        #expect(errors.isEmpty)
        let naming = NamingConfiguration(federationName: "acme", federationDomain: try DomainName("example.com"))
        return try RecordStore(live: try LiveTable(zones: [try #require(zone)], naming: naming), firstSerial: 100)
    }

    func record(addresses: Int) -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "web"))
        record.status.headless = true
        let endpoints = (0..<addresses).map { Endpoint(address: IPAddress("10.\($0 / 65536).\($0 / 256 % 256).\($0 % 256)")!) }
        record.status.dns = [ClusterDNS(cluster: "east-1", region: "r", zones: ["z"], endpoints: endpoints,
                                        readyEndpoints: addresses)]
        return record
    }

    func answers(_ table: AnswerTable) throws -> Int {
        let query = try Message.query(name: try DomainName("web.shop.acme.svc.example.com"), type: .a)
        var output = [UInt8](repeating: 0, count: 65535)
        let length = query.withUnsafeBytes { q in output.withUnsafeMutableBytes { table.respond(to: q, transport: .tcp, into: $0) } }
        return try Message(wire: Array(output[..<length])).answer.count
    }

    @Test func publishesEachBatchAndReadersFollow() async throws {
        let store = try store()
        var reader = RecordStore.Reader(store)
        #expect(reader.table().serial == 100)
        #expect(try answers(reader.table()) == 0)
        let before = store.generation
        await store.apply(RecordChanges(upserted: [record(addresses: 3)]))
        #expect(store.generation == before + 1)
        #expect(reader.table().serial == 101)
        #expect(try answers(reader.table()) == 3)
        #expect(store.liveState()?.records.count == 1)
    }

    @Test func aFailedCompileKeepsTheOldTable() async throws {
        let store = try store()
        await store.apply(RecordChanges(upserted: [record(addresses: 2)]))
        let generation = store.generation
        // 5,000 addresses do not fit in one DNS message: the compile fails and the last good table stays.
        await store.apply(RecordChanges(upserted: [record(addresses: 5000)]))
        #expect(store.generation == generation)
        #expect(try answers(store.current()) == 2)
        #expect(store.liveState()?.records.values.first?.status.dns.first?.endpoints.count == 2)
        // And the store still takes good changes afterwards.
        await store.apply(RecordChanges(upserted: [record(addresses: 4)]))
        #expect(try answers(store.current()) == 4)
    }

    /// A reload before any member reported (no member list yet) compiles the new live table whole. It used to
    /// apply the carried-over records to the never-built table as an update, which rendered only the names the
    /// update touched: the zone files' other names answered NXDOMAIN until a member came (issue 21, found by
    /// ModelBasedTests).
    @Test func aReloadBeforeAnyMemberReportedKeepsTheZoneFiles() async throws {
        let store = try store()
        let (zone, _) = ZoneFile.parse(Self.zone, origin: try DomainName("example.com"))
        let naming = NamingConfiguration(federationName: "acme", federationDomain: try DomainName("example.com"),
                                         recordTTL: 60)
        func reload() throws {
            let zone = try #require(zone)
            #expect(store.reconfigure { () throws(CompileError) -> LiveTable in
                try LiveTable(zones: [zone], naming: naming)
            } == nil)
        }
        func ns1() throws -> Int {
            let query = try Message.query(name: try DomainName("ns1.example.com"), type: .a)
            var output = [UInt8](repeating: 0, count: 65535)
            let table = store.current()
            let length = query.withUnsafeBytes { q in
                output.withUnsafeMutableBytes { table.respond(to: q, transport: .tcp, into: $0) }
            }
            return try Message(wire: Array(output[..<length])).answer.count
        }
        try reload()
        #expect(try ns1() == 1)
        // Records but still no member list.
        await store.apply(RecordChanges(upserted: [record(addresses: 2)]))
        try reload()
        #expect(try ns1() == 1)
        #expect(try answers(store.current()) == 2)
    }

    @Test func staticStoresIgnoreRecordChanges() async {
        let store = RecordStore(initial: AnswerTable(serial: 7))
        await store.apply(RecordChanges(upserted: [record(addresses: 1)]))
        #expect(store.generation == 1)
        #expect(store.liveState() == nil)
    }
}
