import DNSTestSupport
import Foundation
import Testing

/// mcdns against Knot DNS serving the same zone files (`Zones/`): every generated query (DifferentialQuerySet)
/// must get the same RCODE, flags, EDNS and RRsets in each section from both, except for the deliberate
/// differences listed here with their reasons.
@Suite struct KnotDifferentialTests {
    /// Knot is the reference, mcdns the subject. Each entry must still occur (the test fails on a stale entry).
    static let deliberateDifferences: [DeliberateDifference] = [
        DeliberateDifference(
            id: "any-rrset-choice",
            reason: "RFC 8482: ANY gets one RRset of the name; which one is the server's choice",
            matches: DifferenceRules.type("ANY"),
            allowed: [.answer, .additional],
            check: DifferenceRules.bothAnswerOneRRset
        ),
        DeliberateDifference(
            id: "notify-update-notimp",
            reason: """
                mcdns is neither a secondary nor dynamically updated, so NOTIFY and UPDATE are opcodes it does not \
                implement (NOTIMP, DESIGN §4.4); Knot, which implements both, refuses them with NOTAUTH
                """,
            matches: { DifferenceRules.option("+opcode=4")($0) || DifferenceRules.option("+opcode=5")($0) },
            allowed: [.rcode, .edns]
        ),
        DeliberateDifference(
            id: "cd-bit-copied",
            reason: """
                mcdns copies the CD bit from query to response as RFC 4035 §3.1.6 asks of a name server; Knot \
                clears it when the zone is unsigned
                """,
            matches: DifferenceRules.option("+cdflag"),
            allowed: [.cd]
        ),
        DeliberateDifference(
            id: "class-any-refused",
            reason: """
                mcdns serves class IN only and refuses every other QCLASS, ANY (255) included; Knot answers a \
                class-ANY query from its IN data
                """,
            matches: { $0.qclass == "ANY" },
            allowed: [.rcode, .aa, .answer, .authority, .additional]
        ),
        DeliberateDifference(
            id: "additional-all-or-nothing",
            reason: """
                when the A/AAAA of MX or SRV targets do not all fit the UDP size, mcdns leaves the additional \
                section out (without TC, RFC 2181 §9); Knot keeps as many of them as fit
                """,
            matches: DifferenceRules.type("MX", "SRV"),
            allowed: [.additional],
            check: DifferenceRules.additionalIsSubset
        ),
    ]

    /// `.build/debug/mcdns` of this package (the Makefile builds before testing), or `$MCDNS_BINARY` to test
    /// another build (a release binary, say).
    static var mcdnsBinary: String {
        ProcessInfo.processInfo.environment["MCDNS_BINARY"]
            ?? TestZones.packageRoot.appendingPathComponent(".build/debug/mcdns").path
    }

    @Test(arguments: TestZones.all)
    func testZonesLoadInKnot(zone: ServedZone) throws {
        let kzonecheck = try ProcessRunner.locate("kzonecheck", package: "knot-dnssecutils")
        let result = try ProcessRunner.run(kzonecheck, ["-o", zone.origin, zone.path], timeout: .seconds(30))
        #expect(result.status == 0, "kzonecheck \(zone.path): \(result.stdout)\(result.stderr)")
    }

    @Test func mcdnsAnswersLikeKnot() throws {
        let knot = try ZoneServerProcess.start(.knot, zones: TestZones.all)
        defer { knot.stop() }
        let mcdns = try MCDNSProcess.start(binary: Self.mcdnsBinary, zonesDir: TestZones.directory)
        defer { mcdns.stop() }
        let queries = DifferentialQuerySet.all()
        #expect(queries.count >= 200)
        let outcomes = DifferentialComparison.run(
            queries,
            reference: try Dig(port: knot.port),
            subject: try Dig(port: mcdns.port),
            table: Self.deliberateDifferences
        )
        for outcome in outcomes {
            if let failure = outcome.failure { Issue.record(Comment(rawValue: failure)) }
        }
        let used = Set(outcomes.compactMap(\.excusedBy))
        for entry in Self.deliberateDifferences {
            #expect(used.contains(entry.id), "deliberate difference \(entry.id) no longer occurs: remove it")
        }
        #expect(mcdns.isRunning, "mcdns exited during the test:\n\(mcdns.log)")
    }
}
