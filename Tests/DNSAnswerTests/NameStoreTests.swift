@testable import DNSAnswer
import DNSWire
import Testing

/// The flat store every zone keeps its names in (issue 3's memory goal): it must find exactly what it holds
/// through any sequence of inserts, rewrites and removals, and its arena must not grow with rewrites.
@Suite struct NameStoreTests {
    func key(_ text: String) throws -> [UInt8] { try DomainName(text).key }

    /// A store whose names sit under `apex`, with the apex and the given parents stored.
    func store(_ apex: String, parents: [String] = [], chunkSize: Int) throws -> NameStore {
        var store = NameStore(suffix: try key(apex), chunkSize: chunkSize)
        _ = store.insert(try key(apex))
        for parent in parents { _ = store.insert(try key(parent)) }
        return store
    }

    @Test func findsWhatItHoldsAndNothingElse() throws {
        var store = try store("example.com", parents: ["svc.example.com", "shop.svc.example.com"], chunkSize: 256)
        let web = try store.insert(key("web.shop.svc.example.com"))
        let api = try store.insert(key("api.shop.svc.example.com"))
        #expect(try store.find(key("web.shop.svc.example.com")) == web)
        #expect(try store.find(key("api.shop.svc.example.com")) == api)
        #expect(try store.find(key("db.shop.svc.example.com")) == nil)
        #expect(try store.name(of: web) == key("web.shop.svc.example.com"))
        #expect(store.data(of: web).isEmpty)
        store.setData(web, [1, 2, 3])
        #expect(store.data(of: web) == [1, 2, 3])
        #expect(try store.name(of: web) == key("web.shop.svc.example.com"))
        store.remove(web)
        #expect(try store.find(key("web.shop.svc.example.com")) == nil)
        #expect(try store.find(key("api.shop.svc.example.com")) == api)
        #expect(store.count == 4)
        // The freed number goes to the next name.
        #expect(try store.insert(key("db.shop.svc.example.com")) == web)
    }

    /// An entry is 24 bytes and keeps its name's negative TTL itself: any number of distinct values, each name
    /// its own, and a name without one has none.
    @Test func anEntryTakesTwentyFourBytesAndKeepsItsNegativeTTL() throws {
        #expect(MemoryLayout<NameStore.Entry>.stride == 24)
        var store = try store("example.com", chunkSize: 256)
        let names = try (0..<300).map { try store.insert(key("s\($0).example.com")) }
        #expect(store.negativeTTL(of: names[0]) == nil)
        for i in 0..<299 { store[names[i]].negativeTTL = UInt32(1000 + i) }
        store[names[0]].negativeTTL = 5
        #expect(store.negativeTTL(of: names[0]) == 5)
        #expect((1..<299).allSatisfy { store.negativeTTL(of: names[$0]) == UInt32(1000 + $0) })
        #expect(store.negativeTTL(of: names[299]) == nil)
        #expect(store.validate(childCounts: false) == [])
    }

    /// A zone's store keeps names without the zone's origin, and gives them back whole.
    @Test func namesAreKeptWithoutTheOrigin() throws {
        var store = try store("example.com", parents: ["svc.example.com", "shop.svc.example.com"], chunkSize: 256)
        let web = try store.insert(key("web.shop.svc.example.com"))
        let apex = try #require(try store.find(key("example.com")))
        #expect(try store.find(key("WEB.shop.svc.example.com".lowercased())) == web)
        #expect(try store.name(of: web) == key("web.shop.svc.example.com"))
        #expect(try store.name(of: apex) == key("example.com"))
        #expect(try store.find(key("example.com")) == apex)
        // Names outside the zone, and names that only end with the same bytes, are not found.
        #expect(try store.find(key("web.shop.svc.example.org")) == nil)
        #expect(try store.find(key("com")) == nil)
        #expect(try store.find(key(".")) == nil)
        // Each name keeps its first label only (and its parent's number): the apex none.
        #expect(store.arenaBytes == 4 * NameStore.headerSize + 3 + 4 + 3)
    }

    /// Random inserts, rewrites and removals against a dictionary: after every step the store agrees with it,
    /// including names that collide in the index and clusters that removals shift back.
    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func agreesWithADictionaryThroughRandomEdits(seed: UInt64) throws {
        var random = SplitMix64(state: seed)
        // A small chunk makes compaction run often.
        // Names at two depths: n<i>.svc.example.com under the apex, and leaves below some of them. A name with
        // names below it is never removed (the zone contents keep that rule with child counts).
        var store = try store("svc.example.com", chunkSize: 512)
        var expected: [[UInt8]: [UInt8]] = [:]
        var ids: [[UInt8]: UInt32] = [:]
        let apex = try key("svc.example.com")
        ids[apex] = try #require(store.find(apex))
        expected[apex] = []
        for parent in 0..<40 {
            let key = try key("p\(parent).svc.example.com")
            ids[key] = store.insert(key)
            expected[key] = []
        }
        for step in 0..<4_000 {
            let n = Int.random(in: 0..<600, using: &random)
            let key = try key(n % 2 == 0 ? "n\(n).svc.example.com" : "n\(n).p\(n % 40).svc.example.com")
            switch Int.random(in: 0..<3, using: &random) {
            case 0 where expected[key] == nil:
                ids[key] = store.insert(key)
                expected[key] = []
            case 1 where expected[key] != nil:
                let data = (0..<Int.random(in: 0..<40, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
                store.setData(ids[key]!, data)
                expected[key] = data
            case 2 where expected[key] != nil:
                store.remove(ids[key]!)
                expected[key] = nil
                ids[key] = nil
            default:
                break
            }
            #expect(store.validate(childCounts: false) == [], "seed \(seed) step \(step)")
            if step % 500 == 0 || step == 3_999 {
                #expect(store.count == expected.count)
                for (key, data) in expected {
                    let id = try #require(store.find(key), "seed \(seed) step \(step)")
                    #expect(id == ids[key])
                    #expect(store.name(of: id) == key)
                    #expect(store.data(of: id) == data)
                }
                #expect(Set(store.ids) == Set(ids.values))
                for missing in 600..<620 { #expect(try store.find(self.key("n\(missing).svc.example.com")) == nil) }
            }
        }
    }

    /// Rewriting the same names over and over leaves at most about half of every full chunk as garbage: the
    /// arena stays near twice the live bytes, however many rewrites.
    @Test func rewritesDoNotGrowTheArena() throws {
        var store = try store("example.com", chunkSize: 4_096)
        var ids: [UInt32] = []
        for i in 0..<200 { ids.append(try store.insert(key("name-\(i).example.com"))) }
        let arenaBefore = store.arenaBytes
        for round in 0..<200 {
            for id in ids { store.setData(id, Array(repeating: UInt8(round), count: 20)) }
        }
        let live = arenaBefore + ids.count * 20
        #expect(store.arenaBytes <= 2 * live + 2 * store.chunkSize, "arena \(store.arenaBytes) for \(live) live bytes")
        #expect(store.garbageBytes < store.arenaBytes)

        for (i, id) in ids.enumerated() {
            #expect(try store.find(key("name-\(i).example.com")) == id)
            #expect(store.data(of: id) == Array(repeating: 199, count: 20))
        }
        // Removing everything frees the chunks.
        for id in ids { store.remove(id) }
        #expect(store.count == 1)
        #expect(store.arenaBytes <= store.chunkSize)
    }

    /// Elements keep their place across page boundaries, and edits in place stick.
    @Test func pagedArrayKeepsEveryElement() {
        var array = PagedArray<Int>()
        for i in 0..<10_000 { array.append(i * 3) }
        #expect(array.count == 10_000)
        #expect(array.indices.allSatisfy { array[$0] == $0 * 3 })
        array[4_095] += 1
        array[4_096] = -1
        #expect(array[4_095] == 4_095 * 3 + 1 && array[4_096] == -1 && array[9_999] == 29_997)
    }

    /// Rewriting a name whose record is in the tail chunk appends to that same chunk in place: copying the chunk
    /// (1 MiB) on every rewrite made compiles slow and left copies behind.
    @Test func rewritingInTheTailDoesNotCopyIt() throws {
        var store = try store("example.com", chunkSize: 1 << 16)
        let id = try store.insert(key("web.example.com"))
        let before = try #require(store.tailAddress)
        for round in 0..<50 { store.setData(id, [UInt8(round), 1, 2, 3]) }
        #expect(store.tailAddress == before)
        #expect(store.data(of: id) == [49, 1, 2, 3])
    }

    /// A record larger than a chunk gets a chunk of its own, and goes with it.
    @Test func aRecordLargerThanAChunkFits() throws {
        var store = try store("example.com", chunkSize: 128)
        let big = try store.insert(key("big.example.com"))
        let data = (0..<1_000).map { UInt8(truncatingIfNeeded: $0) }
        store.setData(big, data)
        #expect(store.data(of: big) == data)
        store.setData(big, [7])
        #expect(store.data(of: big) == [7])
        #expect(store.arenaBytes < 1_000)
    }
}

/// Issue 21: the release build crashed in `discard` when a rewrite's new record moved the tail on and the old
/// tail, which held the rewritten name's old record, was compacted before that record was counted as garbage.
@Suite struct NameStoreCompactionTests {
    func key(_ text: String) throws -> [UInt8] { try DomainName(text).key }

    /// With 100-byte chunks: the apex (13 bytes) and y's records (24 bytes each) fill the tail to 85 bytes, 48 of
    /// them garbage; the next rewrite of y does not fit, so the tail moves on and the old one (more than half
    /// garbage) is compacted. Before the fix the old record was then counted in a freed chunk: a crash.
    @Test func aRewriteThatMovesTheTailOnCountsTheOldRecordBeforeCompacting() throws {
        var store = NameStore(suffix: try key("example.com"), chunkSize: 100)
        let apex = store.insert(try key("example.com"))
        let y = store.insert(try key("y.example.com"), data: Array(repeating: 1, count: 10))
        store.setData(y, Array(repeating: 2, count: 10))
        store.setData(y, Array(repeating: 3, count: 10))
        #expect(store.arenaBytes == 85 && store.garbageBytes == 48)
        store.setData(y, Array(repeating: 4, count: 10))
        #expect(store.data(of: y) == Array(repeating: 4, count: 10))
        #expect(try store.find(key("example.com")) == apex)
        #expect(try store.name(of: y) == key("y.example.com"))
        // The old tail is gone; the apex and y's new record are all that is left, with no garbage.
        #expect(store.arenaBytes == 13 + 24 && store.garbageBytes == 0)
        #expect(store.validate(childCounts: false) == [])
    }

    /// A removal that pushes its chunk past half garbage compacts it: the removed name's record must not move
    /// with the live ones (before the fix it did, and its bytes then sat in the tail, counted by no garbage).
    @Test func aRemovalThatCompactsItsChunkDoesNotMoveTheRemovedRecord() throws {
        var store = NameStore(suffix: try key("example.com"), chunkSize: 100)
        _ = store.insert(try key("example.com"))
        let data = [UInt8](repeating: 9, count: 10)
        let a = store.insert(try key("a.example.com"), data: data)
        let b = store.insert(try key("b.example.com"), data: data)
        let c = store.insert(try key("c.example.com"), data: data)
        // d does not fit in the first chunk (85 bytes): it starts the second, and the first is no longer the tail.
        let d = store.insert(try key("d.example.com"), data: data)
        store.remove(a)
        store.remove(b)
        // Live: the apex (13) and c and d (24 each); the first chunk was compacted into the tail.
        #expect(store.arenaBytes - store.garbageBytes == 13 + 24 + 24)
        #expect(store.data(of: c) == data && store.data(of: d) == data)
        #expect(try store.find(key("b.example.com")) == nil)
        #expect(store.validate(childCounts: false) == [])
    }

    /// Rewrites of names in the tail, removals and inserts with chunks of a few records each: every way a
    /// compaction can start (a rewrite or an insert moving the tail on, a removal, a compaction filling the tail
    /// in turn) happens many times, and the store stays sound after every step.
    @Test(arguments: [1, 2, 3] as [UInt64])
    func staysSoundWhenTinyChunksCompactOnEveryPath(seed: UInt64) throws {
        var random = SplitMix64(state: seed)
        var store = NameStore(suffix: try key("example.com"), chunkSize: 64)
        _ = store.insert(try key("example.com"))
        var held: [Int: (id: UInt32, data: [UInt8])] = [:]
        for step in 0..<3_000 {
            let n = Int.random(in: 0..<40, using: &random)
            let data = [UInt8](repeating: UInt8(step & 0xFF), count: Int.random(in: 0..<30, using: &random))
            if let (id, _) = held[n] {
                if Bool.random(using: &random) {
                    store.setData(id, data)
                    held[n] = (id, data)
                } else {
                    store.remove(id)
                    held[n] = nil
                }
            } else {
                held[n] = (store.insert(try key("n\(n).example.com"), data: data), data)
            }
            let problems = store.validate(childCounts: false)
            #expect(problems == [], "seed \(seed) step \(step)")
            if !problems.isEmpty { return }
        }
        for (n, (id, data)) in held {
            #expect(try store.find(key("n\(n).example.com")) == id)
            #expect(store.data(of: id) == data)
        }
    }

    /// Each kind of damage to a sound store is reported by `validate()`.
    @Test(arguments: [NameStore.Damage.garbageCount, .childCount, .indexSlot, .overlappingRecord])
    func validateReportsDamage(_ damage: NameStore.Damage) throws {
        var store = NameStore(suffix: try key("example.com"), chunkSize: 100)
        _ = store.insert(try key("example.com"))
        for i in 0..<10 { _ = store.insert(try key("n\(i).example.com"), data: [1, 2, 3]) }
        // The names below the apex, counted as the zone contents count them.
        store[0].children = 10
        #expect(store.validate() == [])
        store.damageForTesting(damage)
        #expect(store.validate() != [], "\(damage) goes unnoticed")
    }
}
