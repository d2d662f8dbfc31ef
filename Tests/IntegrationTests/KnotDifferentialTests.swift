import DNSTestSupport
import DNSWire
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
            reason: notifyUpdateReason,
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

    static let notifyUpdateReason = """
        mcdns is neither a secondary nor dynamically updated, so NOTIFY and UPDATE are opcodes it does not \
        implement (NOTIMP, RFC 1035 §4.1.1, DESIGN §4.4); Knot, which implements both, refuses them with NOTAUTH, \
        or FORMERR when they come without a question
        """

    /// The deliberate differences of the hand-made packets (`RawQuerySet`); each must still occur.
    static let rawDeliberateDifferences: [RawDeliberateDifference] = [
        RawDeliberateDifference(
            id: "notify-update-notimp",
            reason: notifyUpdateReason,
            matches: { [Opcode.notify, .update].contains($0.opcode) && $0.qdcount <= 1 },
            allowed: ["rcode"]
        ),
        RawDeliberateDifference(
            id: "cd-bit-copied",
            reason: """
                mcdns copies the CD bit from query to response as RFC 4035 §3.1.6 asks of a name server; Knot \
                clears it when the zone is unsigned
                """,
            matches: { $0.packet[3] & 0x10 != 0 },
            allowed: ["cd"]
        ),
        RawDeliberateDifference(
            id: "qdcount-over-one-answered",
            reason: """
                RFC 9619 §4: a QUERY with QDCOUNT above 1 is an incorrectly formatted message and its response \
                MUST carry FORMERR, which mcdns sends (header only: no one question to echo), and NOTIMP for \
                another opcode, whose use of QDCOUNT it does not know; Knot 3.2 sends nothing
                """,
            matches: { $0.qdcount > 1 },
            allowed: ["noResponse"]
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

    /// Issue 17: `kdig AXFR` of each static test zone from mcdns (transfers allowed from 127.0.0.1, no key) and
    /// from Knot (the same) holds the same RRsets.
    @Test func axfrOfTheStaticZonesMatchesKnot() throws {
        let knot = try ZoneServerProcess.start(.knot, zones: TestZones.all, allowTransfer: true)
        defer { knot.stop() }
        let mcdns = try MCDNSProcess.start(binary: Self.mcdnsBinary, zonesDir: TestZones.directory,
                                           extraConfig: "transfer: { allow: [127.0.0.1/32] }")
        defer { mcdns.stop() }
        for zone in TestZones.all {
            let reference = try ZoneTransferTests.axfr(port: knot.port, zone: zone.origin)
            let subject = try ZoneTransferTests.axfr(port: mcdns.port, zone: zone.origin)
            #expect(reference.records.count > 5, "Knot: \(reference.output)")
            let missing = Set(reference.records).subtracting(subject.records).sorted()
            let extra = Set(subject.records).subtracting(reference.records).sorted()
            #expect(missing.isEmpty && extra.isEmpty,
                    "\(zone.origin): missing from mcdns \(missing), only in mcdns \(extra)\n\(subject.output)")
        }
        #expect(mcdns.isRunning, "mcdns exited during the test:\n\(mcdns.log)")
    }

    /// Hand-made packets dig cannot send (every opcode with and without a question, each header flag, QR set,
    /// EDNS versions, flags and unknown options, the 512-byte limit, QDCOUNT 0 and 2, records in a query's
    /// answer and authority sections), over UDP and some over TCP: every header bit, count, section and the OPT
    /// must match Knot's, except the deliberate differences above.
    @Test func mcdnsAnswersHandMadeQueriesLikeKnot() throws {
        let knot = try ZoneServerProcess.start(.knot, zones: TestZones.all)
        defer { knot.stop() }
        let mcdns = try MCDNSProcess.start(binary: Self.mcdnsBinary, zonesDir: TestZones.directory)
        defer { mcdns.stop() }
        let queries = RawQuerySet.all()
        #expect(queries.count >= 100)
        var used: Set<String> = []
        for query in queries {
            var reference = try Self.exchange(query, port: knot.port)
            var subject = try Self.exchange(query, port: mcdns.port)
            // One lost UDP datagram on a loaded machine is not a server difference: ask both once more.
            if (reference == nil) != (subject == nil) && !query.tcp {
                reference = try Self.exchange(query, port: knot.port)
                subject = try Self.exchange(query, port: mcdns.port)
            }
            let aspects = RawResponse.aspects(reference, subject)
            guard !aspects.isEmpty else { continue }
            if let entry = Self.rawDeliberateDifferences.first(where: {
                $0.matches(query) && aspects.isSubset(of: $0.allowed)
            }) {
                used.insert(entry.id)
                continue
            }
            Issue.record(
                """
                \(query)
                differs in: \(aspects.sorted().joined(separator: ", "))
                --- Knot ---
                \(reference.map(\.description) ?? "(no response)")
                --- mcdns ---
                \(subject.map(\.description) ?? "(no response)")
                """
            )
        }
        for entry in Self.rawDeliberateDifferences {
            #expect(used.contains(entry.id), "deliberate difference \(entry.id) no longer occurs: remove it")
        }
        #expect(mcdns.isRunning, "mcdns exited during the test:\n\(mcdns.log)")
    }

    /// Sends one raw query and reads the response, or nil when none came (a short wait: Knot stays silent on
    /// some of these on purpose).
    static func exchange(_ query: RawQuery, port: UInt16) throws -> RawResponse? {
        let reply: [UInt8]?
        if query.tcp {
            let connection = try LoopbackTCPConnection(port: port)
            try connection.send(WireQuery.framed(query.packet))
            reply = try connection.readMessage(timeout: .milliseconds(1500))
        } else {
            reply = try LoopbackUDPClient.exchange(query.packet, port: port, timeout: .milliseconds(700))
        }
        guard let reply, reply.count >= 12 else { return nil }
        return RawResponse(wire: reply)
    }
}
