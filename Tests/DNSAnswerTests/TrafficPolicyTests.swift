import Foundation
@testable import DNSAnswer
import DNSWire
import MCDNSModel
import Testing

/// Traffic policies within a level (README, "Traffic policies"): the text form, weighted first places, failover
/// tiers, and what `explain` says about them.
@Suite struct TrafficPolicyTests {
    static let clusters = RotationTests.clusters

    static func table(_ policy: TrafficPolicy?, links: [String: LinkState] = [:], rotate: Bool = true,
                      explain: (LiveTable) throws -> Void = { _ in }) throws -> AnswerTable {
        let naming = NamingConfiguration(federationName: "acme", federationDomain: try DomainName("example.com"),
                                         requesterSubnets: [RequesterSubnet(network: try #require(IPNetwork("10.0.0.0/8")), cluster: "east-1")])
        let (a, _) = ZoneFile.parse(Fixture.example, origin: try DomainName("example.com"))
        let live = try LiveTable(zones: [try #require(a)], naming: naming, options: ServingOptions(rotate: rotate))
        var record = RotationTests.web()
        record.spec.trafficPolicy = policy
        let clusters = Self.clusters.map { info in
            var copy = info
            copy.link = links[info.id.rawValue] ?? info.link
            return copy
        }
        let table = try live.apply(RecordChanges(upserted: [record], clusters: clusters), serial: 2)
        #expect(table.validate() == [])
        try explain(live)
        return table
    }

    static func firstShares(_ table: AnswerTable, _ name: String = RotationTests.global, _ type: RRType = .a,
                            count: Int = 1_200, source: RequesterAddress = .unknown) throws -> [String: Double] {
        var shares: [String: Double] = [:]
        for answer in try RotationTests.ask(table, name, type, count: count, source: source) {
            shares[answer.answer.first ?? "none", default: 0] += 1.0 / Double(count)
        }
        return shares
    }

    @Test func theTextFormParsesOnceAndBadOnesSayWhatToWrite() throws {
        #expect(try TrafficPolicy(parsing: "nearest") == .nearest)
        #expect(try TrafficPolicy(parsing: "Weighted: east-1=70,us-west-2 = 30") == .weighted([.init(key: "east-1", weight: 70), .init(key: "us-west-2", weight: 30)]))
        #expect(try TrafficPolicy(parsing: "failover: eu-west-1, us-east-1") == .failover(["eu-west-1", "us-east-1"]))
        #expect(try TrafficPolicy(parsing: TrafficPolicy.weighted([.init(key: "a", weight: 1)]).description) == .weighted([.init(key: "a", weight: 1)]))
        for bad in ["fastest", "weighted:", "weighted: a", "weighted: a=-1", "weighted: a=1, a=2", "weighted: a=1,,b=2",
                    "failover:", "failover: a, a", "nearest: a", "weighted: a=99999999"] {
            #expect(throws: TrafficPolicy.ParseError.self, "\(bad)") { try TrafficPolicy(parsing: bad) }
        }
        #expect(throws: TrafficPolicy.ParseError.unknownStrategy("fastest")) { try TrafficPolicy(parsing: "fastest: a") }
    }

    @Test func weightedFirstPlacesFollowTheWeightsOfTheHealthyClusters() throws {
        // A region's weight is split between its clusters: east-1 35%, east-2 35%, west-1 30%.
        let policy = TrafficPolicy.weighted([.init(key: "us-east-1", weight: 70), .init(key: "west-1", weight: 30)])
        var explained: Explanation? = nil
        let table = try Self.table(policy) { explained = $0.explain(try DomainName(RotationTests.global), .a, requester: nil, serial: 2) }
        for (type, expected) in [(RRType.a, ["192.0.2.11": 0.35, "192.0.2.12": 0.35, "198.51.100.21": 0.30]),
                                 (.aaaa, ["2001:db8::11": 0.35, "2001:db8::12": 0.35, "2001:db8::21": 0.30])] {
            let shares = try Self.firstShares(table, RotationTests.global, type)
            for (address, share) in expected {
                #expect(abs((shares[address] ?? 0) - share) < 0.01, "\(type) \(address): \(shares)")
            }
        }
        // Weights apply to a known requester too (east-1's loopback subnet gets no nearest-first answer).
        let requester = try Self.firstShares(table, source: .ipv4(0x0A00_0001))
        #expect(abs((requester["198.51.100.21"] ?? 0) - 0.30) < 0.01, "\(requester)")
        #expect(explained?.strategy == "weighted")
        #expect(explained?.policy == "first place among the healthy: east-1 35%, east-2 35%, west-1 30%")

        // west-1 offline: the shares are of the healthy clusters, half each; with dns.rotate off, the same.
        for rotate in [true, false] {
            let without = try Self.firstShares(try Self.table(policy, links: ["west-1": .offline], rotate: rotate))
            #expect(abs((without["192.0.2.11"] ?? 0) - 0.5) < 0.01 && without["198.51.100.21"] == nil, "\(without)")
        }
        // Only west-1 weighs anything: it leads every answer; the region name of us-east-1 (no weights there) rotates.
        let west = try Self.table(.weighted([.init(key: "west-1", weight: 1)]))
        let alone = try Self.firstShares(west)
        #expect(alone.count == 1 && (alone["198.51.100.21"] ?? 0) > 0.999, "\(alone)")
        let region = try Self.firstShares(west, "web.shop.acme.svc.us-east-1.example.com")
        #expect(abs((region["192.0.2.11"] ?? 0) - 0.5) < 0.01, "\(region)")
    }

    @Test func failoverAnswersTheFirstTierWithAHealthyClusterAtEachLevel() throws {
        let policy = TrafficPolicy.failover(["west-1", "us-east-1"])
        var step: String? = nil
        let table = try Self.table(policy) { step = $0.explain(try DomainName(RotationTests.global), .a, requester: nil, serial: 2).policy }
        #expect(try RotationTests.ask(table, RotationTests.global, .a, count: 1)[0].answer == ["198.51.100.21"])
        #expect(step == "west-1 → us-east-1: tier 1 (west-1) answers with west-1")
        // The region keeps its level: us-east-1's name answers with its own clusters (tier 2 there).
        let region = try RotationTests.ask(table, "web.shop.acme.svc.us-east-1.example.com", .a, count: 1)[0]
        #expect(Set(region.answer) == ["192.0.2.11", "192.0.2.12"])

        // west-1 offline: tier 2, both east clusters, taking turns.
        let failed = try Self.table(policy, links: ["west-1": .offline]) {
            step = $0.explain(try DomainName(RotationTests.global), .a, requester: nil, serial: 2).policy
        }
        let answers = try RotationTests.ask(failed, RotationTests.global, .a, count: 2)
        #expect(answers.map { Set($0.answer) } == [["192.0.2.11", "192.0.2.12"], ["192.0.2.11", "192.0.2.12"]])
        #expect(answers[0].answer.first != answers[1].answer.first)
        #expect(step == "west-1 → us-east-1: tier 2 (us-east-1) answers with east-1, east-2")

        // Clusters no tier names are the last tier.
        let last = try Self.table(.failover(["eu-west-1"]), links: ["west-1": .offline])
        #expect(Set(try RotationTests.ask(last, RotationTests.global, .a, count: 1)[0].answer) == ["192.0.2.11", "192.0.2.12"])
    }

    @Test func aSpecWithAPolicyRoundTripsThroughItsCodedForm() throws {
        var spec = ServiceDNSRecord.Spec()
        spec.trafficPolicy = .failover(["west-1", "us-east-1"])
        let data = try JSONEncoder().encode(spec)
        #expect(String(decoding: data, as: UTF8.self).contains("\"trafficPolicy\":\"failover: west-1, us-east-1\""))
        #expect(try JSONDecoder().decode(ServiceDNSRecord.Spec.self, from: data) == spec)
        #expect(spec != ServiceDNSRecord.Spec())
    }

    @Test func answersTakesAWholeNumberAfterTheStrategyAndBadOnesSayWhatToWrite() throws {
        #expect(try TrafficPolicy(parsing: "weighted: east-1=70, west-1=30; answers: 1")
            == .weighted([.init(key: "east-1", weight: 70), .init(key: "west-1", weight: 30)], answers: 1))
        #expect(try TrafficPolicy(parsing: " Answers : 2 ") == TrafficPolicy(.nearest, answers: 2))
        #expect(try TrafficPolicy(parsing: "failover: a, b ;answers:3") == .failover(["a", "b"], answers: 3))
        let limited = TrafficPolicy.failover(["eu-west-1", "us-east-1"], answers: 1)
        #expect(limited.description == "failover: eu-west-1, us-east-1; answers: 1")
        #expect(try TrafficPolicy(parsing: limited.description) == limited)
        #expect(limited.summary == "failover/1" && TrafficPolicy.nearest.summary == "nearest")
        for bad in ["answers: 0", "answers: -1", "answers: two", "answers:", "answers: 1001", "nearest; answers: 1; answers: 2",
                    "weighted: a=1; failover: b", "nearest;", "; answers: 1", "weighted: a=1; answers: 1;"] {
            #expect(throws: TrafficPolicy.ParseError.self, "\(bad)") { try TrafficPolicy(parsing: bad) }
        }
        #expect(throws: TrafficPolicy.ParseError.malformed(
            "answers: \"0\" is not a whole number from 1 to 1000 (how many addresses each answer holds; leave it out for all of them)"
        )) { try TrafficPolicy(parsing: "nearest; answers: 0") }
        #expect(throws: TrafficPolicy.ParseError.malformed("answers is given twice")) { try TrafficPolicy(parsing: "answers: 1; answers: 1") }
    }

    /// Every answer of `name` over `count` queries holds `records` records; returns each answer's first record's
    /// share.
    static func aloneShares(_ table: AnswerTable, _ name: String = RotationTests.global, _ type: RRType = .a,
                            records: Int = 1, count: Int = 1_200, source: RequesterAddress = .unknown) throws -> [String: Double] {
        var shares: [String: Double] = [:]
        for answer in try RotationTests.ask(table, name, type, count: count, source: source) {
            #expect(answer.answer.count == records, "\(name) \(type): \(answer.answer)")
            shares[answer.answer.first ?? "none", default: 0] += 1.0 / Double(count)
        }
        return shares
    }

    @Test func answersOneWithWeightsServesOneAddressWhoseClusterFollowsTheWeights() throws {
        let policy = TrafficPolicy.weighted([.init(key: "us-east-1", weight: 70), .init(key: "west-1", weight: 30)], answers: 1)
        var explained: Explanation? = nil
        for rotate in [true, false] {
            let table = try Self.table(policy, rotate: rotate) {
                explained = $0.explain(try DomainName(RotationTests.global), .a, requester: nil, serial: 2)
            }
            for (type, expected) in [(RRType.a, ["192.0.2.11": 0.35, "192.0.2.12": 0.35, "198.51.100.21": 0.30]),
                                     (.aaaa, ["2001:db8::11": 0.35, "2001:db8::12": 0.35, "2001:db8::21": 0.30]),
                                     (.any, ["192.0.2.11": 0.35, "192.0.2.12": 0.35, "198.51.100.21": 0.30])] {
                let shares = try Self.aloneShares(table, RotationTests.global, type)
                #expect(shares.count == expected.count, "\(type): \(shares)")
                for (address, share) in expected {
                    #expect(abs((shares[address] ?? 0) - share) < 0.01, "\(type) \(address): \(shares)")
                }
            }
            // The region name keeps its level: us-east-1's two clusters, one at a time, evenly.
            let region = try Self.aloneShares(table, "web.shop.acme.svc.us-east-1.example.com")
            #expect(abs((region["192.0.2.11"] ?? 0) - 0.5) < 0.01 && abs((region["192.0.2.12"] ?? 0) - 0.5) < 0.01, "\(region)")
            // A name with one address is served whole.
            #expect(try Self.aloneShares(table, "web.shop.acme.svc.us-west-2.example.com", count: 3).keys.sorted() == ["198.51.100.21"])
        }
        #expect(explained?.strategy == "weighted/1")
        #expect(explained?.policy == "first place among the healthy: east-1 35%, east-2 35%, west-1 30%; "
            + "each answer holds only its first address (answers: 1)")
    }

    /// A weighted service's picks (TYPE65534) and its answer limit (TYPE65533) steer mcdns's own answers; a
    /// secondary must not get them, neither in a full transfer nor in an IXFR step. A zone file's own private-type
    /// records are the zone's data and still transfer.
    @Test func transfersCarryNeitherWeightPicksNorAnswerLimits() throws {
        let naming = NamingConfiguration(federationName: "acme", federationDomain: try DomainName("example.com"))
        let zoneText = Fixture.example + "private IN TYPE65534 \\# 2 0102\n"
        let (zone, _) = ZoneFile.parse(zoneText, origin: try DomainName("example.com"))
        let live = try LiveTable(zones: [try #require(zone)], naming: naming)
        live.recordsDifferences = true
        var record = RotationTests.web()
        record.spec.trafficPolicy = .weighted([.init(key: "us-east-1", weight: 70), .init(key: "west-1", weight: 30)],
                                              answers: 1)
        _ = try live.apply(RecordChanges(upserted: [record], clusters: Self.clusters), serial: 2)
        let zones = live.transferZones.zones
        let records: [ResourceRecord] = zones.flatMap { $0.transferRecords() }
        let global = try DomainName(RotationTests.global)
        // The picks are there to be left out: the global name has them in its RRsets.
        let origin = try #require(zones.first { $0.isLive(global) })
        #expect(origin.rrsets(at: global)?[.rotationWeights] != nil)
        #expect(origin.rrsets(at: global)?[.answerLimit] != nil)
        let privateName = try DomainName("private.example.com")
        #expect(records.contains { $0.owner == global && $0.type == .a })
        #expect(!records.contains { $0.type == .rotationWeights && $0.owner == global })
        #expect(!records.contains { $0.type == .answerLimit })
        #expect(records.contains { $0.type == .rotationWeights && $0.owner == privateName })
        // The next compile's difference: the service's weights change, and so do its picks; the step names none.
        record.spec.trafficPolicy = .weighted([.init(key: "us-east-1", weight: 10), .init(key: "west-1", weight: 90)],
                                              answers: 2)
        _ = try live.apply(RecordChanges(upserted: [record]), serial: 3)
        let step = try #require(live.lastDifferences)
        let changed = step.values.flatMap { $0.removed + $0.added }
        #expect(!changed.contains { $0.type == .rotationWeights || $0.type == .answerLimit }, "\(changed)")
    }

    @Test func answersLimitsRotationAndFailoverToTheFirstRecordsOfTheirOrder() throws {
        // Nearest, answers: 1: each address alone a third of the time; with rotation off, always the first.
        let one = try Self.table(TrafficPolicy(.nearest, answers: 1))
        let shares = try Self.aloneShares(one)
        #expect(shares.count == 3 && shares.values.allSatisfy { abs($0 - 1.0 / 3) < 0.01 }, "\(shares)")
        #expect(try Self.aloneShares(try Self.table(TrafficPolicy(.nearest, answers: 1), rotate: false), count: 10).keys.sorted()
            == ["192.0.2.11"])
        // answers: 2: two consecutive records of the rotation, each address first a third of the time.
        let two = try Self.table(TrafficPolicy(.nearest, answers: 2))
        let order = ["192.0.2.11", "192.0.2.12", "198.51.100.21"]
        for answer in try RotationTests.ask(two, RotationTests.global, .a, count: 30) {
            let first = try #require(order.firstIndex(of: answer.answer[0]))
            #expect(answer.answer == [order[first], order[(first + 1) % 3]], "\(answer.answer)")
        }
        // A known requester's nearest-first variant is limited too: with answers: 1 east-1's subnet gets east-1's
        // address alone, and with answers: 2 (one address nearest) that one.
        #expect(try Self.aloneShares(one, count: 10, source: .ipv4(0x0A00_0001)).keys.sorted() == ["192.0.2.11"])
        #expect(try Self.aloneShares(two, count: 10, source: .ipv4(0x0A00_0001)).keys.sorted() == ["192.0.2.11"])
        // Failover, answers: 1: one address of the first healthy tier.
        let failover = try Self.table(.failover(["us-east-1", "west-1"], answers: 1))
        let tier = try Self.aloneShares(failover)
        #expect(Set(tier.keys) == ["192.0.2.11", "192.0.2.12"] && tier.values.allSatisfy { abs($0 - 0.5) < 0.01 }, "\(tier)")
        let failedOver = try Self.table(.failover(["us-east-1", "west-1"], answers: 1),
                                        links: ["east-1": .offline, "east-2": .offline])
        #expect(try Self.aloneShares(failedOver, count: 10).keys.sorted() == ["198.51.100.21"])
    }

    @Test func validateReportsAKeptLengthThatIsNotWholeRecords() throws {
        let table = try Self.table(TrafficPolicy(.nearest, answers: 2))
        #expect(table.validate() == [])
        #expect(table.damageKeptForTesting())
        let problems = table.validate()
        #expect(problems.contains { $0.contains("rotation run: not whole records of one size at the body's end") }, "\(problems)")
    }
}
