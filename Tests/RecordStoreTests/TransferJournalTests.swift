import DNSAnswer
import DNSWire
import MCDNSModel
import RecordStore
import Testing

/// IXFR's journal (DESIGN §9): every step the store keeps is exactly the difference between the zone's full
/// transfer before and after that compile, and a step is kept for every compile while the journal is on.
@Suite struct TransferJournalTests {
    func record(_ name: String, addresses: [Int], cluster: ClusterID = "east-1") -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: name))
        record.status.headless = true
        let endpoints = addresses.map { Endpoint(address: IPAddress("10.0.\($0 / 256).\($0 % 256)")!) }
        record.status.dns = [
            ClusterDNS(
                cluster: cluster,
                region: "r",
                zones: ["z"],
                endpoints: endpoints,
                readyEndpoints: endpoints.count
            )
        ]
        return record
    }

    @Test func everyStepIsTheDifferenceOfTheFullTransfers() async throws {
        let store = try RecordStoreTests().store()
        store.setJournalLength(4)
        let origin = try DomainName("example.com")
        func full(_ snapshot: TransferSnapshot) throws -> Set<ResourceRecord> {
            Set(try #require(snapshot.zones.first { $0.origin == origin }).transferRecords())
        }
        var generator = SplitMix(seed: 17)
        var previous = store.transferSnapshot()
        let names = ["web", "api", "db", "cache"]
        var stepsSeen = 0
        for round in 0..<40 {
            let name = names[Int(generator.next() % 4)]
            let changes: RecordChanges
            if generator.next() % 4 == 0 {
                changes = RecordChanges(removed: [ServiceKey(namespace: "shop", name: name)])
            } else {
                let count = Int(generator.next() % 4) + 1
                changes = RecordChanges(upserted: [
                    record(name, addresses: (0..<count).map { _ in Int(generator.next() % 50) })
                ])
            }
            await store.apply(changes)
            let current = store.transferSnapshot()
            guard current.serial != previous.serial else { continue }  // nothing changed, no compile
            let steps = try #require(
                current.journal.steps(of: origin, from: previous.serial, to: current.serial),
                "round \(round): no step \(previous.serial)→\(current.serial)"
            )
            #expect(steps.count == 1)
            let before = try full(previous)
            let after = try full(current)
            #expect(Set(steps[0].removed) == before.subtracting(after), "round \(round)")
            #expect(Set(steps[0].added) == after.subtracting(before), "round \(round)")
            #expect(steps[0].removed.count == Set(steps[0].removed).count)
            stepsSeen += 1
            previous = current
        }
        #expect(stepsSeen > 20)
        // Bounded: four steps back is the oldest serial it can answer from.
        let last = store.transferSnapshot()
        #expect(last.journal.count(of: origin) == 4)
        #expect(last.journal.steps(of: origin, from: last.serial &- 5, to: last.serial) == nil)
        // Off: nothing is kept.
        store.setJournalLength(0)
        await store.apply(RecordChanges(upserted: [record("web", addresses: [1, 2, 3, 4, 5, 6, 7])]))
        #expect(store.transferSnapshot().journal.count(of: origin) == 0)
    }
}

/// A small deterministic generator (the seed names the sequence).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
