@testable import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// Live names keep their records packed in the zone contents (issue 3's memory goal): what comes out must be
/// exactly what went in, and the bookkeeping of names (empty non-terminals, owners, negative TTLs) must hold.
@Suite struct ZoneContentTests {
    func zone() throws -> ZoneContent {
        let (zone, errors) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        return try ZoneContent(zone: try #require(zone, "\(errors)"))
    }

    func rrsets(_ owner: DomainName) throws -> [RRType: [ResourceRecord]] {
        let target = try DomainName("web.shop.svc.clusterset.local")
        return [
            .a: [.a(owner, ttl: 30, [10, 0, 0, 1]), .a(owner, ttl: 30, [10, 0, 0, 2])],
            .aaaa: [.aaaa(owner, ttl: 30, [0xFD] + Array(repeating: 0, count: 14) + [1])],
            .srv: [ResourceRecord(owner: owner, type: .srv, ttl: 5, rdata: [0, 0, 0, 100, 0, 80] + target.wire)],
        ]
    }

    @Test func packedRecordsComeBackAsTheyWent() throws {
        let owner = try DomainName("a.b.example.com")
        let original = try rrsets(owner)
        let packed = try #require(PackedRRsets(original, owner: owner))
        #expect(packed.unpacked(owner: owner) == original)
        #expect(packed.contains(.srv))
        #expect(!packed.contains(.cname))
        // A CNAME keeps the offset of the name its RDATA holds (it may be compressed).
        let cname = [RRType.cname: [ResourceRecord.cname(owner, ttl: 7, target: try DomainName("x.example.com"))]]
        let packedCNAME = try #require(PackedRRsets(cname, owner: owner))
        #expect(packedCNAME.unpacked(owner: owner) == cname)
        #expect(packedCNAME.unpacked(owner: owner)[.cname]?.first?.compressibleNames == [0])
        // Three A records take 29 bytes: type, TTL and count once, then length and address per record.
        let three = [RRType.a: (1...3).map { ResourceRecord.a(owner, ttl: 30, [10, 0, 0, $0]) }]
        #expect(try #require(PackedRRsets(three, owner: owner)).bytes.count == 29)
        #expect(try #require(PackedRRsets(three, owner: owner)).unpacked(owner: owner) == three)
        // An empty RRset packs to nothing and comes back as no RRset.
        #expect(try #require(PackedRRsets([.a: []], owner: owner)).bytes.isEmpty)
    }

    /// An RRset whose records carry different TTLs is not packed (one TTL per RRset is stored), and such a live
    /// name is still served with each record's own TTL.
    @Test func anRRsetWithDifferentTTLsIsKeptAsGiven() throws {
        let owner = try DomainName("a.b.example.com")
        let mixed = [RRType.a: [ResourceRecord.a(owner, ttl: 30, [10, 0, 0, 1]), .a(owner, ttl: 60, [10, 0, 0, 2])]]
        #expect(PackedRRsets(mixed, owner: owner) == nil)
        var zone = try zone()
        #expect(zone.add(LiveName(name: owner, rrsets: mixed), requesterIndex: [:], owner: 4) != nil)
        #expect(zone.rrsets(at: owner) == mixed)
    }

    @Test func recordsOfAnotherOwnerOrCaseAreNotPacked() throws {
        let owner = try DomainName("a.b.example.com")
        #expect(PackedRRsets([.a: [.a(try DomainName("A.b.example.com"), ttl: 1, [1, 2, 3, 4])]], owner: owner) == nil)
        #expect(PackedRRsets([.a: [.a(try DomainName("c.example.com"), ttl: 1, [1, 2, 3, 4])]], owner: owner) == nil)
        // Such a live name is still served, from the records as given.
        var zone = try zone()
        let odd = [RRType.a: [ResourceRecord.a(try DomainName("A.B.example.com"), ttl: 1, [1, 2, 3, 4])]]
        #expect(zone.add(LiveName(name: owner, rrsets: odd), requesterIndex: [:], owner: 3) != nil)
        #expect(zone.rrsets(at: owner) == odd)
        #expect(zone.owner(of: owner) == 3)
    }

    @Test func liveNamesComeAndGoWithTheirEmptyNonTerminals() throws {
        var zone = try zone()
        let deep = try DomainName("x.y.z.example.com")
        let created = try #require(zone.add(LiveName(name: deep, rrsets: try rrsets(deep), negativeTTL: 5),
                                            requesterIndex: [:], owner: 9))
        #expect(Set(created) == [deep, try DomainName("y.z.example.com"), try DomainName("z.example.com")])
        #expect(zone.rrsets(at: deep) == (try rrsets(deep)))
        #expect(zone.rrsets(at: try DomainName("y.z.example.com")) == [:])   // an empty non-terminal
        #expect(zone.negativeTTL(at: deep) == 5)
        #expect(zone.isLive(deep))
        #expect(zone.owner(of: deep) == 9)
        #expect(zone.serviceNegativeTTL == 5)
        #expect(zone.hasRecords(ofType: .srv))

        // A sibling keeps the non-terminals alive when the first name goes.
        let sibling = try DomainName("w.y.z.example.com")
        _ = zone.add(LiveName(name: sibling, rrsets: try rrsets(sibling)), requesterIndex: [:], owner: 9)
        #expect(zone.removeLive(deep) == [deep])
        #expect(zone.rrsets(at: deep) == nil)
        #expect(zone.contains(try DomainName("y.z.example.com")))
        #expect(Set(zone.removeLive(sibling)) == [sibling, try DomainName("y.z.example.com"), try DomainName("z.example.com")])
        #expect(!zone.contains(try DomainName("z.example.com")))
        #expect(zone.negativeTTL(at: deep) == nil)
        #expect(zone.owner(of: deep) == nil)
        // Only live names are removed this way.
        #expect(zone.removeLive(try DomainName("www.example.com")) == [])
        #expect(zone.contains(try DomainName("www.example.com")))
    }

    @Test func theZoneFileWinsOverALiveName() throws {
        var zone = try zone()
        let www = try DomainName("www.example.com")
        #expect(zone.add(LiveName(name: www, rrsets: try rrsets(www)), requesterIndex: [:], owner: 2) == nil)
        #expect(zone.rrsets(at: www)?[.a]?.count == 1)
        #expect(zone.owner(of: www) == nil)
        #expect(zone.fileNodes.contains { $0.name == www })
        // An empty non-terminal of the file (b.c under a.b.c) may be taken by a live name and given back.
        let bc = try DomainName("b.c.example.com")
        #expect(zone.add(LiveName(name: bc, rrsets: try rrsets(bc)), requesterIndex: [:], owner: 2) == [])
        #expect(zone.isLive(bc))
        #expect(!zone.fileNodes.contains { $0.name == bc })
        #expect(zone.removeLive(bc) == [])
        #expect(zone.rrsets(at: bc) == [:])
        #expect(zone.contains(try DomainName("a.b.c.example.com")))
    }
}
