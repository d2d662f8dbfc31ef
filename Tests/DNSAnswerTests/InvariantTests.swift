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

    /// A shard of two names, `a.example.com` and `b.example.com`, made section by section: `types` and
    /// `fallbacks` give each node's type entries and fallback as template indexes into `store`.
    static func shard(types: [[Int32]], fallbacks: [Int32], store: TemplateStore, sharedRun: Bool = false) throws -> Shard {
        var nodes: [NodeEntry] = []
        var names: [UInt8] = []
        var typeEntries: [TypeEntry] = []
        var hashes: [UInt32] = []
        for (n, label) in ["a", "b"].enumerated() {
            let key = try DomainName("\(label).example.com").key
            let start = sharedRun && n > 0 ? 0 : typeEntries.count
            if !(sharedRun && n > 0) { typeEntries += types[n].map { TypeEntry(qtype: .a, template: $0) } }
            nodes.append(NodeEntry(nameStart: UInt32(names.count), nameLength: UInt8(key.count), origin: 0,
                                   typesStart: UInt32(start), typesCount: UInt8(types[n].count), fallback: fallbacks[n],
                                   delegated: false, hasWildcardChild: false))
            names += key
            hashes.append(NameHash.hash(key))
        }
        return Shard.make(nodes: nodes, hashes: hashes, names: names, types: typeEntries, store: store)
    }

    static func body(_ bytes: [UInt8]) -> RenderedBody {
        RenderedBody(bytes: bytes, trimmedLength: bytes.count, answerCount: 1, authorityCount: 0, additionalCount: 0,
                     trimmedAdditionalCount: 0, relocations: [], referenceQnameLength: 0, rcode: .noError,
                     authoritative: true, resolution: .answer)
    }

    /// Each template of a shard is one node's: the same answer bytes at two names are two templates. A shard
    /// whose two nodes refer to one template, share a type run, leave a template without a node, or overlap the
    /// bytes of their templates is reported; the sound shard is not.
    @Test func aShardReportsTemplatesOrTypeRunsTwoNodesShare() throws {
        var store = TemplateStore()
        let first = store.add(Self.body([1, 2, 3, 4]))
        let second = store.add(Self.body([1, 2, 3, 4]))
        #expect(first != second)
        let sound = try Self.shard(types: [[first], [second]], fallbacks: [-1, -1], store: store)
        #expect(sound.validate(index: nil, origins: [], sharedCount: 1) == [])
        // The same node may refer to its template more than once (its fallback is its A answer here).
        let twice = try Self.shard(types: [[first], [second]], fallbacks: [first, -1], store: store)
        #expect(twice.validate(index: nil, origins: [], sharedCount: 1) == [])

        let oneTemplate = try Self.shard(types: [[first], [second]], fallbacks: [-1, first], store: store)
        #expect(oneTemplate.validate(index: nil, origins: [], sharedCount: 1).contains { $0.contains("which is node 0's") })
        let oneRun = try Self.shard(types: [[first], [first]], fallbacks: [-1, second], store: store, sharedRun: true)
        #expect(oneRun.validate(index: nil, origins: [], sharedCount: 1).contains { $0.contains("run too") })
        let orphan = try Self.shard(types: [[first], []], fallbacks: [-1, -1], store: store)
        #expect(orphan.validate(index: nil, origins: [], sharedCount: 1).contains { $0.contains("template 1 is no node's") })

        // A body that is the start of another's may share its bytes within one node, not across two.
        var prefixed = TemplateStore()
        let long = prefixed.add(Self.body([1, 2, 3, 4]))
        let short = prefixed.add(Self.body([1, 2]), sharingBytesOf: long)
        #expect(prefixed.entries[Int(short)].bodyStart == prefixed.entries[Int(long)].bodyStart)
        let oneNode = try Self.shard(types: [[long], []], fallbacks: [short, -1], store: prefixed)
        #expect(oneNode.validate(index: nil, origins: [], sharedCount: 1) == [])
        let twoNodes = try Self.shard(types: [[long], [short]], fallbacks: [-1, -1], store: prefixed)
        #expect(twoNodes.validate(index: nil, origins: [], sharedCount: 1).contains { $0.contains("overlap") })
    }

    @Test func theAnswerTableReportsADamagedShard() throws {
        let (_, table) = try Self.table()
        table.damageForTesting()
        let problems = table.validate()
        #expect(problems.contains { $0.contains("fallback") }, "\(problems)")
    }
}
