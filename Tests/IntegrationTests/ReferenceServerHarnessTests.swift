import DNSTestSupport
import Testing

/// Checks the differential harness itself with two independent reference servers, Knot DNS and NSD, serving the
/// same zones. Their answers agree except where the table below says why; a harness bug (a parser that drops a
/// section, a normalisation that hides a difference) shows up here before it can hide an mcdns bug.
@Suite struct ReferenceServerHarnessTests {
    /// Knot is the reference, NSD the subject.
    static let knotVersusNSD: [DeliberateDifference] = [
        DeliberateDifference(
            id: "nsd-cross-zone-cname",
            reason: "NSD follows a CNAME into another zone it serves; Knot stops at the zone's edge",
            matches: { DifferenceRules.name("back.other.test", "toother.diff.test")($0) && $0.type == "A" },
            allowed: [.answer],
            check: DifferenceRules.answerExtendsReference
        ),
        DeliberateDifference(
            id: "nsd-minimal-responses",
            reason: "NSD with minimal-responses adds no A/AAAA of MX and SRV targets; Knot adds them",
            matches: DifferenceRules.type("MX", "SRV"),
            allowed: [.additional],
            check: DifferenceRules.additionalIsSubset
        ),
        DeliberateDifference(
            id: "any-rrset-choice",
            reason: "RFC 8482: each server picks its own single RRset for ANY",
            matches: DifferenceRules.type("ANY"),
            allowed: [.answer, .additional],
            check: DifferenceRules.bothAnswerOneRRset
        ),
        DeliberateDifference(
            id: "nsd-opcodes",
            reason: """
                NSD answers opcodes other than QUERY with a bare header (no question, no OPT), NOTIFY from an \
                unlisted primary with REFUSED and UPDATE with NOTIMP; Knot keeps question and OPT and says NOTAUTH
                """,
            matches: DifferenceRules.option("+opcode"),
            allowed: [.rcode, .edns, .question]
        ),
        DeliberateDifference(
            id: "nsd-class-any-not-authoritative",
            reason: "NSD answers a class-ANY query from its IN data without AA; Knot sets AA",
            matches: { $0.qclass == "ANY" },
            allowed: [.aa]
        ),
        DeliberateDifference(
            id: "nsd-class-none-bare",
            reason: "NSD refuses class NONE with a bare header (no question); Knot keeps the question",
            matches: { $0.qclass == "NONE" },
            allowed: [.question]
        ),
    ]

    @Test func knotAndNSDAgreeOnTheDifferentialQueries() throws {
        let knot = try ZoneServerProcess.start(.knot, zones: TestZones.all)
        defer { knot.stop() }
        let nsd = try ZoneServerProcess.start(.nsd, zones: TestZones.all)
        defer { nsd.stop() }
        let queries = DifferentialQuerySet.all()
        #expect(queries.count >= 200)
        let outcomes = DifferentialComparison.run(
            queries,
            reference: try Dig(port: knot.port),
            subject: try Dig(port: nsd.port),
            table: Self.knotVersusNSD
        )
        for outcome in outcomes {
            if let failure = outcome.failure { Issue.record(Comment(rawValue: failure)) }
        }
        // Every listed difference must still occur: a stale entry would hide a regression in the harness.
        let used = Set(outcomes.compactMap(\.excusedBy))
        for entry in Self.knotVersusNSD {
            #expect(used.contains(entry.id), "deliberate difference \(entry.id) no longer occurs: remove it")
        }
        // The responses really were compared: most queries must be answered identically by both.
        #expect(outcomes.filter { $0.difference.isEmpty }.count >= queries.count * 3 / 4)
    }
}

extension ReferenceServerHarnessTests {
    /// The malformed packets are malformed the way their labels say: of two independent parsers, Knot and NSD, at
    /// least one answers each as mcdns must. They differ among themselves: Knot drops most unparsable questions
    /// silently, NSD ignores bytes after the question.
    @Test func referenceServersRejectTheMalformedQueries() throws {
        let knot = try ZoneServerProcess.start(.knot, zones: TestZones.all)
        defer { knot.stop() }
        let nsd = try ZoneServerProcess.start(.nsd, zones: TestZones.all)
        defer { nsd.stop() }
        for query in MalformedQuery.all where query.expected != MalformedQuery.notImp {
            var asExpected: [String] = []
            for server in [knot, nsd] {
                let reply = try LoopbackUDPClient.exchange(query.packet, port: server.port, timeout: .milliseconds(700))
                let header = reply.flatMap(WireQuery.header(of:))
                switch query.expected {
                case .noResponse where reply == nil: asExpected.append(server.implementation.rawValue)
                case .rcode(let rcode) where header?.rcode == rcode && header?.id == MalformedQuery.id:
                    asExpected.append(server.implementation.rawValue)
                default: break
                }
            }
            #expect(!asExpected.isEmpty, "neither Knot nor NSD answers \(query.label) with \(query.expected)")
        }
        // A well-formed control query gets a real answer, so silence above means rejection, not a dead server.
        for server in [knot, nsd] {
            let valid = try WireQuery.make(id: 7, name: "www.diff.test", type: .a)
            let reply = try LoopbackUDPClient.exchange(valid, port: server.port)
            #expect(reply.flatMap(WireQuery.header(of:))?.rcode == .noError)
        }
    }
}
