@testable import DNSAnswer
import DNSWire
import Testing

/// Answers of one name that are byte for byte the same are stored once in its shard (issue 3's memory goal):
/// the answers must stay right, and an update that copies the node must keep them shared.
@Suite struct SharedTemplateTests {
    let table: AnswerTable

    init() throws {
        table = try Fixture.table()
    }

    func node(_ name: String) throws -> (shard: Shard, node: NodeEntry) {
        let key = try DomainName(name).key
        let hash = NameHash.hash(key)
        let shard = table.shards[AnswerTable.shard(of: hash)]
        let index = key.withUnsafeBytes { shard.find(hash: hash, prefix: nil, packet: $0, start: 0, end: key.count) }
        try #require(index >= 0)
        return (shard, shard.node(Int(index)))
    }

    func templates(_ shard: Shard, _ node: NodeEntry) -> [UInt16: Int32] {
        var result: [UInt16: Int32] = [:]
        for i in Int(node.typesStart)..<(Int(node.typesStart) + Int(node.typesCount)) {
            result[shard.type(i).qtype] = shard.type(i).template
        }
        return result
    }

    @Test func anyAndAShareOneTemplateWhereTheirAnswersAreTheSame() throws {
        // Mixed has only an A record: minimal ANY (RFC 8482) answers with that same RRset.
        let (shard, node) = try node("mixed.example.com")
        let types = templates(shard, node)
        #expect(types[RRType.a.rawValue] != nil)
        #expect(types[RRType.a.rawValue] == types[RRType.any.rawValue])
        // www has A and AAAA: ANY picks the A set, AAAA keeps its own answer.
        let www = try self.node("www.example.com")
        let wwwTypes = templates(www.shard, www.node)
        #expect(wwwTypes[RRType.any.rawValue] == wwwTypes[RRType.a.rawValue])
        #expect(wwwTypes[RRType.aaaa.rawValue] != wwwTypes[RRType.a.rawValue])
    }

    @Test func sharedAnswersStillEchoTheirOwnQuestion() throws {
        let a = try table.ask("Mixed.example.com", .a)
        let any = try table.ask("mixed.EXAMPLE.com", .any)
        // The owner points at the question, so each answer carries its own question's case.
        #expect(a.answer == ["Mixed.example.com.\t300\tIN\tA\t192.0.2.81"])
        #expect(any.answer == ["mixed.EXAMPLE.com.\t300\tIN\tA\t192.0.2.81"])
        #expect(a.question.first?.contains("Mixed.example.com.") == true)
        #expect(any.question.first?.contains("mixed.EXAMPLE.com.") == true)
        #expect(a.question != any.question)
    }

    @Test func copyingANodeKeepsItsTemplatesShared() throws {
        let (shard, node) = try node("mixed.example.com")
        // Rebuilding the shard without replacing anything copies every node as bytes (the update path).
        let copy = ShardPacker.rebuild(shard, replacing: [], with: [])
        #expect(copy.byteCount == shard.byteCount)
        let key = try DomainName("mixed.example.com").key
        let hash = NameHash.hash(key)
        let index = key.withUnsafeBytes { copy.find(hash: hash, prefix: nil, packet: $0, start: 0, end: key.count) }
        try #require(index >= 0)
        let copied = templates(copy, copy.node(Int(index)))
        #expect(copied[RRType.a.rawValue] == copied[RRType.any.rawValue])
        #expect(copied.count == templates(shard, node).count)
    }
}
