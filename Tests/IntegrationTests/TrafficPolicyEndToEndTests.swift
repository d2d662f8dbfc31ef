import DNSTestSupport
import Foundation
import Testing

/// Issue 20 end to end: the demo members as manifest directories with a `mcdns.io/traffic-policy` annotation on the
/// web Service, the real `mcdns serve`, real `dig`. Global A of web: east-1 203.0.113.10, east-2 203.0.113.20,
/// west-1 198.51.100.30.
@Suite(.serialized) struct TrafficPolicyEndToEndTests {
    let g = "web.shop.acme.svc.example.com"
    static let east1 = "203.0.113.10", east2 = "203.0.113.20", west1 = "198.51.100.30"

    /// Puts `policy` on the web Service of every member (the oldest export decides; all agree).
    static func annotate(_ members: TemporaryDirectory, _ policy: String) throws {
        for cluster in ["east-1", "east-2", "west-1"] {
            let file = members.url.appendingPathComponent("\(cluster)/web.yaml")
            var text = try String(contentsOf: file, encoding: .utf8)
            if let line = text.range(of: "    mcdns.io/traffic-policy: [^\n]*\n", options: .regularExpression) {
                text.removeSubrange(line)
            }
            text = text.replacingOccurrences(of: "    mcdns.io/export: \"true\"\nspec:\n  type: LoadBalancer",
                                             with: "    mcdns.io/export: \"true\"\n    mcdns.io/traffic-policy: \"\(policy)\"\nspec:\n  type: LoadBalancer")
            try text.write(to: file, atomically: true, encoding: .utf8)
        }
    }

    /// How often each address came first in `count` answers to one `dig -f` batch; every answer must hold
    /// `records` addresses (its header's ANSWER count and its records: three for the demo's web, one with
    /// `answers: 1`).
    static func firstAddresses(_ port: UInt16, _ name: String, count: Int, records: Int = 3) throws -> [String: Int] {
        let directory = try TemporaryDirectory(prefix: "mcdns-weights")
        defer { directory.remove() }
        let batch = directory.path + "/queries"
        try String(repeating: "\(name) A\n", count: count).write(toFile: batch, atomically: true, encoding: .utf8)
        let output = try ProcessRunner.run(try ProcessRunner.locate("dig", package: "dnsutils"),
                                           ["@127.0.0.1", "-p", "\(port)", "+time=2", "+tries=2", "-f", batch,
                                            "+noall", "+comments", "+answer"],
                                           timeout: .seconds(180))
        #expect(output.status == 0 && !output.timedOut, "\(output.stderr)")
        // Each answer: its header line (";; flags: …, ANSWER: n, …"), then its records. A rare warning line stands
        // for a query dig got back from its own socket instead of an answer (see `Dig`): no header, no answer.
        var answers: [(announced: Int, addresses: [String])] = []
        for line in output.stdout.split(separator: "\n") {
            if line.hasPrefix(";; flags:"), let range = line.range(of: "ANSWER: ") {
                answers.append((Int(line[range.upperBound...].prefix { $0.isNumber }) ?? -1, []))
            } else if !line.hasPrefix(";"), let address = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).last,
                      !answers.isEmpty {
                answers[answers.count - 1].addresses.append(String(address))
            }
        }
        #expect(answers.count >= count - 3, "\(answers.count) answers to \(count) queries")
        let wrong = answers.filter { $0.announced != records || $0.addresses.count != records }
        #expect(wrong.isEmpty, "\(wrong.count) answers do not hold \(records) addresses, e.g. \(wrong.prefix(3))")
        var first: [String: Int] = [:]
        for answer in answers { if let address = answer.addresses.first { first[address, default: 0] += 1 } }
        return first
    }

    /// Checks each address's share of first places in `first` against `expected` within ±3% and prints them.
    static func expectShares(_ first: [String: Int], _ expected: [(String, Double)], _ what: String) {
        let answered = first.values.reduce(0, +)
        var measured: [String] = []
        for (address, share) in expected {
            let got = Double(first[address] ?? 0) / Double(answered)
            measured.append("\(address) \(String(format: "%.4f", got)) (want \(share))")
            #expect(abs(got - share) <= 0.03, "\(address) in \(got) of answers, want \(share): \(first)")
        }
        #expect(first.keys.allSatisfy { address in expected.contains { $0.0 == address } }, "\(first)")
        print("traffic-policy end to end: \(what), \(answered) answers: " + measured.joined(separator: ", "))
    }

    @Test func weightedSharesOfFirstPlaceFollowTheWeightsOfTheHealthyClusters() throws {
        let (members, process, dig) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        // A region's weight is split between its two clusters: east-1 30%, east-2 30%, west-1 40%.
        try Self.annotate(members, "weighted: us-east-1=60, west-1=40")
        // Until the annotation is read, the three take turns (west-1 leads 200 of 600 answers, give or take two
        // per worker thread); weighted, it leads 240.
        _ = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { _ in
            ((try? Self.firstAddresses(process.port, g, count: 600)[Self.west1]) ?? 0).map { $0 >= 220 } ?? false
        }
        var first = try Self.firstAddresses(process.port, g, count: 10_000)
        Self.expectShares(first, [(Self.east1, 0.3), (Self.east2, 0.3), (Self.west1, 0.4)], "weighted, first place")

        // west-1 turns unhealthy: the shares are of the healthy clusters, east-1 and east-2 half each.
        let west = members.url.appendingPathComponent("west-1/web.yaml")
        let original = try String(contentsOf: west, encoding: .utf8)
        try original.replacingOccurrences(of: "conditions: { ready: true }", with: "conditions: { ready: false }")
            .write(to: west, atomically: true, encoding: .utf8)
        _ = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0 == [Self.east1, Self.east2] }
        let directory = try TemporaryDirectory(prefix: "mcdns-weights")
        defer { directory.remove() }
        let batch = directory.path + "/queries"
        try String(repeating: "\(g) A\n", count: 2_000).write(toFile: batch, atomically: true, encoding: .utf8)
        let output = try ProcessRunner.run("/usr/bin/dig", ["@127.0.0.1", "-p", "\(process.port)", "-f", batch, "+short"],
                                           timeout: .seconds(120))
        let lines = output.stdout.split(separator: "\n").map(String.init).filter { !$0.hasPrefix(";") }
        #expect(lines.count % 2 == 0 && lines.count >= 2 * (2_000 - 3))
        first = [:]
        for answer in stride(from: 0, to: lines.count - 1, by: 2) { first[lines[answer], default: 0] += 1 }
        #expect(abs(Double(first[Self.east1] ?? 0) / Double(lines.count / 2) - 0.5) <= 0.03, "\(first)")
    }

    @Test func failoverAnswersTheFirstHealthyTierAndComesBack() throws {
        let (members, process, dig) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try Self.annotate(members, "failover: west-1, us-east-1")
        let switched = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0 == [Self.west1] }
        #expect(switched < .seconds(2), "the policy took \(switched)")
        // The region name keeps its level: us-east-1 has no west-1, so its first tier present answers.
        #expect(try LiveRecordsEndToEndTests.rdata(dig, "web.shop.acme.svc.us-east-1.example.com", "A")
                == [Self.east1, Self.east2])

        // west-1's endpoints all turn not ready: the next tier answers.
        let west = members.url.appendingPathComponent("west-1/web.yaml")
        let original = try String(contentsOf: west, encoding: .utf8)
        try original.replacingOccurrences(of: "conditions: { ready: true }", with: "conditions: { ready: false }")
            .write(to: west, atomically: true, encoding: .utf8)
        let failed = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0 == [Self.east1, Self.east2] }
        #expect(failed < .seconds(2), "failing over took \(failed)")

        // Ready again: west-1 answers alone again.
        try original.write(to: west, atomically: true, encoding: .utf8)
        let back = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0 == [Self.west1] }
        #expect(back < .seconds(2), "coming back took \(back)")
    }

    @Test func aPolicyThatDoesNotParseAnswersAsNearestAndSaysWhy() throws {
        let (members, process, dig) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try Self.annotate(members, "fastest: west-1")
        Thread.sleep(forTimeInterval: 1.0)
        #expect(try LiveRecordsEndToEndTests.rdata(dig, g, "A") == [Self.west1, Self.east1, Self.east2].sorted())
        // A good policy after it still takes effect.
        try Self.annotate(members, "failover: east-2")
        _ = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0 == [Self.east2] }
    }

    @Test func answersOneWithWeightsAnswersOneAddressWhoseClusterFollowsTheWeights() throws {
        let (members, process, dig) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try Self.annotate(members, "weighted: us-east-1=60, west-1=40; answers: 1")
        _ = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0.count == 1 }
        let alone = try Self.firstAddresses(process.port, g, count: 10_000, records: 1)
        Self.expectShares(alone, [(Self.east1, 0.3), (Self.east2, 0.3), (Self.west1, 0.4)], "weighted, answers: 1, alone")
    }

    @Test func answersOneWithRotationAnswersEachAddressAloneEvenly() throws {
        let (members, process, dig) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try Self.annotate(members, "answers: 1")
        _ = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0.count == 1 }
        let alone = try Self.firstAddresses(process.port, g, count: 10_000, records: 1)
        let third = 1.0 / 3
        Self.expectShares(alone, [(Self.east1, third), (Self.east2, third), (Self.west1, third)], "nearest, answers: 1, alone")
    }

    @Test func failoverWithAnswersOneAnswersOneAddressOfTheFirstHealthyTier() throws {
        let (members, process, dig) = try LiveRecordsEndToEndTests().start()
        defer { process.stop(); members.remove() }
        try Self.annotate(members, "failover: us-east-1, west-1; answers: 1")
        _ = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0.count == 1 }
        // us-east-1 is the first tier: east-1 and east-2 take turns, one address per answer; west-1 never.
        let tier = try Self.firstAddresses(process.port, g, count: 1_000, records: 1)
        Self.expectShares(tier, [(Self.east1, 0.5), (Self.east2, 0.5)], "failover, answers: 1, first tier")
        // Both east clusters lose web's endpoints (its slices name another service): west-1's one address.
        for cluster in ["east-1", "east-2"] {
            let file = members.url.appendingPathComponent("\(cluster)/web.yaml")
            try String(contentsOf: file, encoding: .utf8)
                .replacingOccurrences(of: "kubernetes.io/service-name: web\n", with: "kubernetes.io/service-name: web-gone\n")
                .write(to: file, atomically: true, encoding: .utf8)
        }
        _ = try LiveRecordsEndToEndTests.waitFor(dig, g, "A", within: .seconds(5)) { $0 == [Self.west1] }
        #expect(try Self.firstAddresses(process.port, g, count: 200, records: 1).keys.sorted() == [Self.west1])
    }
}
