@testable import DNSAnswer
import DNSWire
import Testing

/// The addresses a batch server prefetches before answering (DESIGN §8) must be the ones `respond` reads.
@Suite struct LookupPrefetchTests {
    let table: AnswerTable

    init() throws {
        table = try Fixture.table()
    }

    func hash(_ name: String) throws -> UInt32? {
        let query = try Message.query(name: try DomainName(name), type: .a, id: 7)
        return query.withUnsafeBytes { table.lookupHash(of: $0) }
    }

    @Test func theHashIsTheOneTheLookupUsesWhateverTheCase() throws {
        let name = try DomainName("www.example.com")
        #expect(try hash("www.example.com") == NameHash.group(name.key))
        #expect(try hash("WWW.Example.COM") == NameHash.group(name.key))
        #expect(try hash("other.example.com") != NameHash.group(name.key))
    }

    @Test func theAddressesLeadToTheShardTheNameIsIn() throws {
        for name in ["www.example.com", "example.com", "alias.example.com", "missing.example.com"] {
            let hash = try #require(try hash(name))
            let shard = table.shards[AnswerTable.shard(of: hash)]
            let expected = UnsafeRawPointer(Unmanaged.passUnretained(shard).toOpaque())
            #expect(table.shardAddress(ofHash: hash) == expected)
            // The directory entry holds the reference to that very shard.
            #expect(table.directoryAddress(ofHash: hash).load(as: UnsafeRawPointer.self) == expected)
        }
        // A name that exists is found in the shard the addresses lead to.
        let query = try Message.query(name: try DomainName("www.example.com"), type: .a, id: 7)
        let hash = try #require(try self.hash("www.example.com"))
        let shard = table.shards[AnswerTable.shard(of: hash)]
        let full = NameHash.hash(try DomainName("www.example.com").key)
        let found = query.withUnsafeBytes { shard.find(hash: full, prefix: nil, packet: $0, start: 12, end: query.count - 4) }
        #expect(found >= 0)
    }

    @Test func questionsItCannotReadQuicklyGiveNoHash() throws {
        let valid = try Message.query(name: try DomainName("www.example.com"), type: .a, id: 7)
        func lookup(_ packet: [UInt8]) -> UInt32? { packet.withUnsafeBytes { table.lookupHash(of: $0) } }
        #expect(lookup(Array(valid.prefix(12))) == nil)             // no question
        #expect(lookup(Array(valid.prefix(16))) == nil)             // the name is cut short
        var pointer = Array(valid.prefix(12))
        pointer += [0xC0, 12, 0, 1, 0, 1]                           // a compression pointer
        #expect(lookup(pointer) == nil)
        var long = Array(valid.prefix(12))
        for _ in 0..<5 { long += [63] + Array(repeating: UInt8(ascii: "a"), count: 63) }
        long += [0, 0, 1, 0, 1]                                     // a name over 255 bytes
        #expect(lookup(long) == nil)
        // respond answers all of these on its own terms (FORMERR or nothing); see MalformedQueryTests.
        #expect(lookup(valid) != nil)
    }

    @Test func randomBytesNeverCrashTheHash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var packet = [UInt8](repeating: 0, count: Int.random(in: 0...80, using: &generator))
            for i in packet.indices { packet[i] = UInt8.random(in: 0...63, using: &generator) }
            let hash = packet.withUnsafeBytes { table.lookupHash(of: $0) }
            // Independently: the name's labels, up to its root byte, lie inside the packet.
            var end = 12
            while end < packet.count, packet[end] != 0 { end += 1 + Int(packet[end]) }
            if end < packet.count && end - 12 < 255 {
                #expect(hash == NameHash.group(Array(packet[12...end])))
            } else {
                #expect(hash == nil)
            }
        }
    }
}
