@testable import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// Issue 21: each compact structure states what must hold (`validate()`); a sound table reports nothing, and each
/// kind of damage is reported.
@Suite struct InvariantTests {
    static func table() throws -> (LiveTable, AnswerTable) {
        let live = try IncrementalUpdatePropertyTests.table(LiveNamesTests.naming)
        var rng = SplitMix64(state: 7)
        let records = (0..<40).map { IncrementalUpdatePropertyTests.record(&rng, index: $0) }
        let table = try live.apply(RecordChanges(upserted: records, clusters: IncrementalUpdatePropertyTests.clusters),
                                   serial: 2)
        return (live, table)
    }

    @Test func aSoundTableReportsNothing() throws {
        let (live, table) = try Self.table()
        #expect(live.validate() == [])
        #expect(table.validate() == [])
        #expect(live.records.count == 40)
    }

    @Test(arguments: [NameStore.Damage.garbageCount, .childCount, .indexSlot, .overlappingRecord])
    func theLiveTableReportsADamagedNameStore(_ damage: NameStore.Damage) throws {
        let (live, _) = try Self.table()
        live.damageForTesting(damage)
        #expect(live.validate() != [], "\(damage) goes unnoticed")
    }

    @Test func theLiveTableReportsServiceNumbersThatDoNotMatch() throws {
        let (live, _) = try Self.table()
        live.damageServiceNumbersForTesting()
        #expect(live.validate() != [])
    }

    @Test func aZoneReportsADamagedStore() throws {
        let (zone, _) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        var content = try ZoneContent(zone: try #require(zone))
        #expect(content.validate() == [])
        content.damageForTesting(.childCount)
        #expect(content.validate() != [])
    }

    @Test func theAnswerTableReportsADamagedShard() throws {
        let (_, table) = try Self.table()
        table.damageForTesting()
        let problems = table.validate()
        #expect(problems.contains { $0.contains("fallback") }, "\(problems)")
    }
}
