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
        let shard = given ?? table.shards[AnswerTable.shard(of: NameHash.group(key))]
        let index = key.withUnsafeBytes { shard.find(hash: hash, prefix: nil, packet: $0, start: 0, end: key.count) }
        try #require(index >= 0)
        return (shard, shard.node(Int(index)))
    }

    func templates(_ shard: Shard, _ node: NodeEntry) -> [RRType: Int32] {
        var result: [RRType: Int32] = [:]
        for i in Int(node.typesStart)..<(Int(node.typesStart) + Int(node.typesCount)) {
            result[shard.type(i).qtype] = shard.type(i).template
        }
        if node.anyIsFirstType { result[RRType.any] = shard.type(Int(node.typesStart)).template }
        return result
    }

    /// A node entry is 16 bytes (32 with its first fields in another order, then 24 with its variants' place in
    /// it): a million names at scale. Its fields and flags still read back as set.
    @Test func aNodeEntryTakesSixteenBytes() throws {
        #expect(MemoryLayout<NodeEntry>.stride == 16)
        let entry = NodeEntry(nameStart: 1, nameLength: 255, origin: 2, typesStart: 3, typesCount: 255,
                              fallback: -7, delegated: false, hasWildcardChild: true)
        #expect(!entry.delegated && entry.hasWildcardChild && !entry.hasVariants && !entry.anyIsFirstType)
        #expect(entry.nameStart == 1 && entry.nameLength == 255 && entry.origin == 2 && entry.typesStart == 3)
        #expect(entry.typesCount == 255 && entry.fallback == -7)
        let delegated = NodeEntry(nameStart: 0, nameLength: 0, origin: 0, typesStart: 0, typesCount: 0,
                                  fallback: 0, delegated: true, hasWildcardChild: false, hasVariants: true,
                                  anyIsFirstType: true)
        #expect(delegated.delegated && !delegated.hasWildcardChild && delegated.hasVariants && delegated.anyIsFirstType)
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
            nodes.append(NodeEntry(nameStart: UInt32(bytes.count), nameLength: UInt8(name.count), origin: 0,
                                   typesStart: 0, typesCount: 0, fallback: -1, delegated: false,
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
        #expect(try table.ask("WWW.Example.COM", .a).rcode == .noError)
        #expect(try table.ask("WWW.Example.COM", .a).answer == ["WWW.Example.COM.\t300\tIN\tA\t192.0.2.80"])

        // One stored stem, one origin: the same stem under another origin of the same length does not match.
        let stem: [UInt8] = [3] + Array("www".utf8)
        let node = NodeEntry(nameStart: 0, nameLength: UInt8(stem.count), origin: 0, typesStart: 0, typesCount: 0,
                             fallback: -1, delegated: false, hasWildcardChild: false)
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
        #expect(types[RRType.a] != nil)
        #expect(types[RRType.a] == types[RRType.any])
        // www has A and AAAA: ANY picks the A set, AAAA keeps its own answer.
        let www = try self.node("www.example.com")
        let wwwTypes = templates(www.shard, www.node)
        #expect(wwwTypes[RRType.any] == wwwTypes[RRType.a])
        #expect(wwwTypes[RRType.aaaa] != wwwTypes[RRType.a])
    }

    /// Where ANY's answer is the first type's, the node keeps no entry for it (8 bytes of 16 at most names): a
    /// flag sends ANY to the first entry. Where it differs, ANY keeps its entry.
    @Test func anyAnsweredAsTheFirstTypeHasNoEntryOfItsOwn() throws {
        let (shard, mixed) = try node("mixed.example.com")
        #expect(mixed.anyIsFirstType && mixed.typesCount == 1)
        #expect(shard.type(Int(mixed.typesStart)).qtype == RRType.a)
        let www = try node("www.example.com")
        #expect(www.node.anyIsFirstType && www.node.typesCount == 2)
        let srv = try node("_http._tcp.example.com")
        #expect(!srv.node.anyIsFirstType && srv.node.typesCount == 2)
        #expect(try table.ask("www.example.com", .any).answer == ["www.example.com.\t300\tIN\tA\t192.0.2.80"])
        #expect(try table.ask("www.example.com", .aaaa).answer == ["www.example.com.\t300\tIN\tAAAA\t2001:db8::80"])
        // A type the name lacks still gets NODATA (the fallback), not the first type's answer.
        let mx = try table.ask("www.example.com", .mx)
        #expect(mx.rcode == .noError && mx.answer.isEmpty && mx.authority.first?.contains("SOA") == true)
        // The flag survives an update's copy.
        let copy = try #require(ShardPacker.rebuild(shard, replacing: [], with: [], origins: []))
        let copied = try node("mixed.example.com", in: copy).node
        #expect(copied.anyIsFirstType && copied.typesCount == 1)
        #expect(copy.template(node: copy.find(name: "mixed.example.com"), qtype: RRType.any)
            == copy.type(Int(copied.typesStart)).template)
    }

    /// Variants are kept ordered by node, outside the node entries: each node finds its own and no other's, in
    /// a fresh shard and in one an update copied (where node indexes change).
    @Test func variantsAreFoundByTheirNodesIndex() throws {
        let names = try (0..<5).map { try DomainName("n\($0).example.com") }
        let body = RenderedBody(bytes: [1, 2, 3], trimmedLength: 3, answerCount: 1, authorityCount: 0,
                                additionalCount: 0, trimmedAdditionalCount: 0, relocations: [],
                                referenceQnameLength: 0, rcode: .noError, authoritative: true, resolution: .answer)
        var other = body
        other.bytes = [4, 5, 6, 7]
        // Nodes 1 and 3 have variants for requesters 0 and 2; the rest have none.
        func pending(_ index: Int) -> PendingNode {
            var variants: [(requester: UInt16, qtype: RRType, body: RenderedBody)] = []
            if index % 2 == 1 {
                variants.append((requester: 0, qtype: RRType.a, body: other))
                variants.append((requester: 2, qtype: RRType.a, body: other))
                variants.append((requester: 2, qtype: RRType.aaaa, body: body))
            }
            return PendingNode(name: names[index], zone: 0, types: [(RRType.a, body)], variants: variants,
                               fallback: nil, sharedFallback: -1, delegated: false, hasWildcardChild: false)
        }
        var packer = ShardPacker(capacity: 5, origins: [try DomainName("example.com").key])
        for index in 0..<5 { packer.add(pending(index)) }
        let shard = packer.finish()
        func check(_ shard: Shard) {
            for name in names {
                let index = shard.find(name: name.description)
                let node = shard.node(Int(index))
                let odd = name.description.hasPrefix("n1") || name.description.hasPrefix("n3")
                #expect(node.hasVariants == odd)
                #expect(shard.variantRange(node: Int(index)).count == (odd ? 3 : 0))
                let own = shard.template(node: index, qtype: RRType.a)
                let variant = shard.variant(node: index, requester: 2, qtype: RRType.a)
                #expect(odd ? variant != nil && variant != own : variant == nil)
                #expect(shard.variant(node: index, requester: 1, qtype: RRType.a) == nil)
                #expect((shard.variant(node: index, requester: 2, qtype: RRType.aaaa) != nil) == odd)
            }
        }
        check(shard)
        // Replacing n0 moves every other node one index down.
        let rebuilt = try #require(ShardPacker.rebuild(shard, replacing: [names[0]], with: [pending(0)],
                                                       origins: [try DomainName("example.com").key]))
        #expect(rebuilt.find(name: "n0.example.com") == 4)
        check(rebuilt)
    }

    /// A name with more types than a node counts is refused with an error that says so, not a crash.
    @Test func aNameWithTooManyTypesIsRefused() throws {
        var text = Fixture.example
        for type in 65_000..<65_256 { text += "many 300 IN TYPE\(type) \\# 1 00\n" }
        let (zone, errors) = ZoneFile.parse(text, origin: try DomainName("example.com"))
        #expect(errors.isEmpty)
        #expect(throws: CompileError.tooManyTypes(try DomainName("many.example.com"), 257)) {
            try AnswerTable.compile(zones: [try #require(zone)], serial: 1, options: ServingOptions())
        }
        // One type fewer (and ANY) fits.
        var fewer = Fixture.example
        for type in 65_000..<65_254 { fewer += "many 300 IN TYPE\(type) \\# 1 00\n" }
        let table = try AnswerTable.compile(zones: [try #require(ZoneFile.parse(fewer, origin: try DomainName("example.com")).0)],
                                            serial: 1, options: ServingOptions())
        let answer = try table.ask("many.example.com", RRType(65_253))
        #expect(answer.rcode == .noError && answer.answer.count == 1)
    }

    /// A shard indexes the origins of at most 256 zones: the 257th is reported (the compile refuses the table)
    /// instead of overflowing the node's byte.
    @Test func aShardWithNamesOfTooManyZonesIsReported() throws {
        let origins = try (0..<257).map { try DomainName("z\($0).test").key }
        var packer = ShardPacker(capacity: 257, origins: origins)
        for zone in 0..<257 {
            packer.add(PendingNode(name: try DomainName("www.z\(zone).test"), zone: zone, types: [], variants: [],
                                   fallback: nil, sharedFallback: -1, delegated: false, hasWildcardChild: false))
            #expect(packer.tooManyZones == (zone == 256))
        }
        var fits = ShardPacker(capacity: 256, origins: origins)
        for zone in 0..<256 {
            fits.add(PendingNode(name: try DomainName("www.z\(zone).test"), zone: zone, types: [], variants: [],
                                 fallback: nil, sharedFallback: -1, delegated: false, hasWildcardChild: false))
        }
        let shard = fits.finish()
        #expect(shard.find(name: "www.z255.test") == 255 && shard.zone(of: shard.node(255)) == 255)
        #expect(shard.fullName(of: shard.node(200)) == (try DomainName("www.z200.test")).key)
    }

    /// Through the compile: `a.b.` picks one shard under every zone, so 257 zones that each hold `a.b` put names of
    /// 257 zones in one shard. The compile refuses with an error that says so; 256 zones compile and answer.
    @Test func theCompileRefusesAShardWithNamesOfTooManyZones() throws {
        func zones(_ count: Int) throws -> [Zone] {
            try (0..<count).map { index in
                let origin = try DomainName("z\(index).test")
                let text = "@ 300 IN SOA ns hostmaster 1 7200 3600 1209600 60\n@ 300 IN NS ns\nns 300 IN A 192.0.2.1\n"
                    + "a.b 300 IN A 192.0.2.\(index % 250 + 1)\n"
                return try #require(ZoneFile.parse("$ORIGIN \(origin)\n" + text, origin: origin).0)
            }
        }
        #expect(throws: CompileError.tooManyZones(257)) {
            try AnswerTable.compile(zones: try zones(257), serial: 1, options: ServingOptions())
        }
        let table = try AnswerTable.compile(zones: try zones(256), serial: 1, options: ServingOptions())
        #expect(try table.ask("a.b.z255.test", .a).answer == ["a.b.z255.test.\t300\tIN\tA\t192.0.2.6"])
        #expect(CompileError.tooManyZones(257).description.contains("serve fewer zones"))
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
            #expect(answer.rcode == .noError)
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
        let copy = try #require(ShardPacker.rebuild(shard, replacing: [], with: [], origins: []))
        #expect(copy.byteCount == shard.byteCount)
        let copied = templates(copy, try self.node("mixed.example.com", in: copy).node)
        #expect(copied[RRType.a] == copied[RRType.any])
        #expect(copied.count == templates(shard, node).count)
    }

    /// ANY at a name with one type is that type's answer without its additional section: its bytes are the start
    /// of that answer's, stored once (195 of a headless service's 273-byte SRV answer at scale), and still once
    /// after an update copies the node. Both answers stay right.
    @Test func anyWithoutTheAdditionalSectionSharesTheFullAnswersBytes() throws {
        let (shard, node) = try node("_http._tcp.example.com")
        func entries(_ shard: Shard, _ node: NodeEntry) throws -> (srv: TemplateEntry, any: TemplateEntry) {
            let types = templates(shard, node)
            let srv = try #require(types[RRType.srv])
            let any = try #require(types[RRType.any])
            #expect(srv != any)
            return (shard.template(Int(srv)).entry, shard.template(Int(any)).entry)
        }
        let (srv, any) = try entries(shard, node)
        #expect(srv.additionalCount > 0 && any.additionalCount == 0)
        #expect(any.bodyLength < srv.bodyLength)
        #expect(any.bodyStart == srv.bodyStart)

        let copy = try #require(ShardPacker.rebuild(shard, replacing: [], with: [], origins: []))
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

extension Shard {
    /// The node index of `name` in this shard (-1 when it has none).
    func find(name: String) -> Int32 {
        guard let key = try? DomainName(name).key else { return -1 }
        return key.withUnsafeBytes { find(hash: NameHash.hash(key), prefix: nil, packet: $0, start: 0, end: key.count) }
    }
}
