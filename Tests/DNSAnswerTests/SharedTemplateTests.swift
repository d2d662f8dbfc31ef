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

    /// The node of `name` in `shard`, or in the table's shard for it.
    func node(_ name: String, in given: Shard? = nil) throws -> (shard: Shard, node: NodeEntry) {
        let key = try DomainName(name).key
        let hash = NameHash.hash(key)
        let shard = given ?? table.shards[AnswerTable.shard(of: hash)]
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

    /// A node entry is 24 bytes (it was 32 with its fields in another order): a million names at scale. Its
    /// flags still read back as set.
    @Test func aNodeEntryTakesTwentyFourBytes() throws {
        #expect(MemoryLayout<NodeEntry>.stride == 24)
        let entry = NodeEntry(nameStart: 1, nameLength: 255, zone: 2, typesStart: 3, typesCount: 4, variantsStart: 5,
                              variantsCount: 6, fallback: -7, delegated: false, hasWildcardChild: true)
        #expect(!entry.delegated && entry.hasWildcardChild && entry.nameLength == 255 && entry.fallback == -7)
        let delegated = NodeEntry(nameStart: 0, nameLength: 0, zone: 0, typesStart: 0, typesCount: 0, variantsStart: 0,
                                  variantsCount: 0, fallback: 0, delegated: true, hasWildcardChild: false)
        #expect(delegated.delegated && !delegated.hasWildcardChild)
    }

    /// Shards keep no hash section: an update reads each node's hash from its slot. Every node's must be its
    /// name's, or a copied node would not be found again.
    @Test func slotsGiveBackEveryNodesHash() throws {
        var nodes = 0
        for index in 0..<AnswerTable.shardCount {
            let shard = table.shards[index]
            let hashes = shard.nodeHashes()
            for node in 0..<shard.nodeCount {
                #expect(hashes[node] == NameHash.hash(shard.fullName(of: shard.node(node))))
                nodes += 1
            }
        }
        #expect(nodes > 10)
    }

    /// A slot is 4 bytes: a tag of the hash and the node's index. Names whose hashes are equal (same home slot,
    /// same tag) are told apart by their names; a name not in the shard is not found, even with an equal hash.
    @Test func slotsOfFourBytesTellNamesWithEqualHashesApart() throws {
        #expect(Slot.node(Slot.make(hash: 0xDEAD_BEEF, node: 0)) == 0)
        #expect(Slot.node(Slot.make(hash: 0xFFFF_FFFF, node: Slot.maxNodes - 1)) == Slot.maxNodes - 1)
        #expect(Slot.make(hash: 0, node: 0) != Slot.empty)
        let names = try ["a.example.com", "b.example.com", "c.example.com"].map { try DomainName($0).key }
        var nodes: [NodeEntry] = []
        var bytes: [UInt8] = []
        for name in names {
            nodes.append(NodeEntry(nameStart: UInt32(bytes.count), nameLength: UInt8(name.count), zone: 0, typesStart: 0,
                                   typesCount: 0, variantsStart: 0, variantsCount: 0, fallback: -1, delegated: false,
                                   hasWildcardChild: false))
            bytes += name
        }
        let shard = Shard.make(nodes: nodes, hashes: [7, 7, 7], names: bytes, types: [], store: TemplateStore())
        // Eight slots of four bytes come before the node entries.
        #expect(shard.layout.nodes == 8 * 4)
        for (index, name) in names.enumerated() {
            let found = name.withUnsafeBytes { shard.find(hash: 7, prefix: nil, packet: $0, start: 0, end: name.count) }
            #expect(found == Int32(index))
            // Another hash: another tag, or another home slot; either way not this node.
            let other = name.withUnsafeBytes { shard.find(hash: 8, prefix: nil, packet: $0, start: 0, end: name.count) }
            #expect(other == -1)
        }
        let missing = try DomainName("d.example.com").key
        #expect(missing.withUnsafeBytes { shard.find(hash: 7, prefix: nil, packet: $0, start: 0, end: missing.count) } == -1)
    }

    /// A shard stores each name without its zone's origin, and each origin once: the apex stores nothing, and
    /// a lookup still matches the whole name, origin included, in any case.
    @Test func namesAreStoredWithoutTheirZonesOrigin() throws {
        let (shard, www) = try node("www.example.com")
        #expect(Array(shard.name(of: www)) == [3] + Array("www".utf8))
        let origin = try DomainName("example.com").key
        let full = try DomainName("www.example.com").key
        #expect(Array(shard.origin(of: www)) == origin)
        #expect(shard.fullName(of: www) == full)
        let (apexShard, apex) = try node("example.com")
        #expect(apex.nameLength == 0 && apexShard.fullName(of: apex) == origin)
        #expect(try table.ask("WWW.Example.COM", .a).rcode == 0)
        #expect(try table.ask("WWW.Example.COM", .a).answer == ["WWW.Example.COM.\t300\tIN\tA\t192.0.2.80"])

        // One stored stem, one origin: the same stem under another origin of the same length does not match.
        let stem: [UInt8] = [3] + Array("www".utf8)
        let node = NodeEntry(nameStart: 0, nameLength: UInt8(stem.count), zone: 3, typesStart: 0, typesCount: 0,
                             variantsStart: 0, variantsCount: 0, fallback: -1, delegated: false, hasWildcardChild: false)
        let made = Shard.make(nodes: [node], hashes: [7], names: stem + origin, types: [], store: TemplateStore(),
                              origins: [OriginEntry(zone: 3, length: UInt16(origin.count), start: UInt32(stem.count))])
        func find(_ name: String) throws -> Int32 {
            let key = try DomainName(name).wire
            return key.withUnsafeBytes { made.find(hash: 7, prefix: nil, packet: $0, start: 0, end: key.count) }
        }
        #expect(try find("www.example.com") == 0)
        #expect(try find("WWW.EXAMPLE.com") == 0)
        #expect(try find("www.example.net") == -1)
        #expect(try find("wwx.example.com") == -1)
        #expect(try find("www.example.co") == -1)
        #expect(try find("example.com") == -1)
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

    @Test func onlyWildcardAnswersKeepTheirRelocations() throws {
        func relocations(_ name: String) throws -> [UInt16] {
            let (shard, node) = try self.node(name)
            return templates(shard, node).values.sorted().map { shard.template(Int($0)).entry.relocationCount }
        }
        // Written only behind their own name: nothing to relocate.
        #expect(try relocations("www.example.com").allSatisfy { $0 == 0 })
        #expect(try relocations("_http._tcp.example.com").allSatisfy { $0 == 0 })
        // A wildcard answers questions of every length: pointers into the question (here the CNAME target's
        // `example.com`) move with each question's length.
        #expect(try relocations("*.wc.example.com").contains { $0 > 0 })
        for name in ["a.wc.example.com", "a-much-longer-label.wc.example.com", "X.Y.wc.example.com"] {
            let answer = try table.ask(name, .cname)
            #expect(answer.rcode == 0)
            #expect(answer.answer == ["\(name).\t300\tIN\tCNAME\twww.example.com."])
        }
        for name in ["a.wild.example.com", "a-much-longer-label.wild.example.com", "X.Y.wild.example.com"] {
            #expect(try table.ask(name, .a).answer == ["\(name).\t300\tIN\tA\t192.0.2.99"])
        }
        // An exact name still answers with its own name as the owner, in the question's case.
        #expect(try table.ask("WWW.example.com", .aaaa).answer == ["WWW.example.com.\t300\tIN\tAAAA\t2001:db8::80"])
        #expect(try table.ask("_http._tcp.example.com", .srv).answer
            == ["_http._tcp.example.com.\t300\tIN\tSRV\t0 5 80 www.example.com."])
    }

    @Test func copyingANodeKeepsItsTemplatesShared() throws {
        let (shard, node) = try node("mixed.example.com")
        // Rebuilding the shard without replacing anything copies every node as bytes (the update path).
        let copy = ShardPacker.rebuild(shard, replacing: [], with: [], origins: [])
        #expect(copy.byteCount == shard.byteCount)
        let copied = templates(copy, try self.node("mixed.example.com", in: copy).node)
        #expect(copied[RRType.a.rawValue] == copied[RRType.any.rawValue])
        #expect(copied.count == templates(shard, node).count)
    }

    /// ANY at a name with one type is that type's answer without its additional section: its bytes are the start
    /// of that answer's, stored once (195 of a headless service's 273-byte SRV answer at scale), and still once
    /// after an update copies the node. Both answers stay right.
    @Test func anyWithoutTheAdditionalSectionSharesTheFullAnswersBytes() throws {
        let (shard, node) = try node("_http._tcp.example.com")
        func entries(_ shard: Shard, _ node: NodeEntry) throws -> (srv: TemplateEntry, any: TemplateEntry) {
            let types = templates(shard, node)
            let srv = try #require(types[RRType.srv.rawValue])
            let any = try #require(types[RRType.any.rawValue])
            #expect(srv != any)
            return (shard.template(Int(srv)).entry, shard.template(Int(any)).entry)
        }
        let (srv, any) = try entries(shard, node)
        #expect(srv.additionalCount > 0 && any.additionalCount == 0)
        #expect(any.bodyLength < srv.bodyLength)
        #expect(any.bodyStart == srv.bodyStart)

        let copy = ShardPacker.rebuild(shard, replacing: [], with: [], origins: [])
        #expect(copy.byteCount == shard.byteCount)
        let (copiedSRV, copiedAny) = try entries(copy, try self.node("_http._tcp.example.com", in: copy).node)
        #expect(copiedAny.bodyStart == copiedSRV.bodyStart && copiedAny.bodyLength == any.bodyLength)

        let full = try table.ask("_http._tcp.example.com", .srv)
        let minimal = try table.ask("_http._tcp.example.com", .any)
        #expect(full.answer == ["_http._tcp.example.com.\t300\tIN\tSRV\t0 5 80 www.example.com."])
        #expect(minimal.answer == full.answer)
        #expect(full.additional.contains { $0.hasPrefix("www.example.com.") })
        #expect(!minimal.additional.contains { $0.hasPrefix("www.example.com.") })
    }
}
