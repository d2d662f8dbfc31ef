import DNSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 17: mcdns as the hidden primary of real Knot DNS and NSD secondaries (AXFR over TCP, TSIG, NOTIFY),
/// with the demo members as manifest directories and the real `kdig`.
@Suite(.serialized) struct ZoneTransferTests {
    static let key = SecondaryServerProcess.Key(name: "xfr-key", secret: "qBvKXUpo4zNzOThnIV28KTuR5Ms5Pw7XWCnu0K4dNtY=")
    static let g = "web.shop.acme.svc.example.com"

    /// A copy of the demo members, the key file, and mcdns serving them with `transfer:` (allow and notify as given).
    static func startPrimary(
        notify: [UInt16],
        allow: String = "127.0.0.1/32",
        adminPort: UInt16 = 0,
        members: Bool = true,
        reusing existing: TemporaryDirectory? = nil
    )
        throws -> (TemporaryDirectory, MCDNSProcess)
    {
        let folder = try existing ?? TemporaryDirectory(prefix: "mcdns-primary")
        for cluster in ["east-1", "east-2", "west-1"] where members && existing == nil {
            try FileManager.default.copyItem(
                at: LiveRecordsEndToEndTests.demo.appendingPathComponent(cluster),
                to: folder.url.appendingPathComponent(cluster)
            )
        }
        let keyFile = try folder.write("xfr.key", key.secret + "\n")
        let clusters =
            members
            ? """
            federation: { name: acme, domain: example.com }
            clusters:
              - { name: east-1, source: { manifests: "\(folder.path)/east-1" } }
              - { name: east-2, source: { manifests: "\(folder.path)/east-2" } }
              - { name: west-1, source: { manifests: "\(folder.path)/west-1" } }
            """ : ""
        let process = try MCDNSProcess.start(
            binary: KnotDifferentialTests.mcdnsBinary,
            zonesDir: LiveRecordsEndToEndTests.zones,
            adminPort: adminPort,
            extraConfig: clusters + "\n" + transferSection(notify: notify, allow: allow, keyFile: keyFile),
            stateDir: folder.path + "/state"
        )
        return (folder, process)
    }

    static func transferSection(notify: [UInt16], allow: String, keyFile: String) -> String {
        """
        transfer:
          allow: [\(allow)]
          keys:
            - { name: \(key.name), algorithm: hmac-sha256, secretFile: "\(keyFile)" }
          notify: [\(notify.map { "\"127.0.0.1:\($0)\"" }.joined(separator: ", "))]
          notifyRetry: 200ms
        """
    }

    /// `kdig AXFR` (signed with `key` when given): the records as sorted, whitespace-normalised lines (SOA once,
    /// TSIG left out, owners and names in RDATA lower-cased), and kdig's whole output.
    static func axfr(
        port: UInt16,
        zone: String,
        key: String? = nil,
        options: [String] = [],
        type: String = "AXFR"
    )
        throws -> (records: [String], output: String)
    {
        let kdig = try ProcessRunner.locate("kdig", package: "knot-dnsutils")
        var arguments = ["@127.0.0.1", "-p", "\(port)", type, zone, "+retry=0", "+timeout=5"] + options
        if let key { arguments += ["-y", key] }
        let result = try ProcessRunner.run(kdig, arguments, timeout: .seconds(20))
        let output = result.stdout + result.stderr
        let lines = result.stdout.split(separator: "\n").compactMap { line -> String? in
            guard !line.hasPrefix(";"), !line.isEmpty else { return nil }
            var fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard fields.count >= 4, fields[3] != "TSIG" else { return nil }
            fields[0] = fields[0].lowercased()
            // Names in RDATA compare without case (RFC 4343): Knot keeps them lower-cased, mcdns as written.
            if RRset.typesWithNamesInRDATA.contains(fields[3]) {
                for index in fields.indices.dropFirst(4) { fields[index] = fields[index].lowercased() }
            }
            return fields.joined(separator: " ")
        }
        return (Array(Set(lines)).sorted(), output)
    }

    static var signed: String { "hmac-sha256:\(key.name):\(key.secret)" }

    /// Polls until `accept` holds, within `limit`; returns how long it took, or records the last value.
    static func waitFor<T>(
        _ what: String,
        within limit: Duration,
        _ read: () throws -> T,
        _ accept: (T) -> Bool
    )
        rethrows -> Duration
    {
        let start = ContinuousClock.now
        var last = try read()
        while !accept(last) {
            guard ContinuousClock.now - start < limit else {
                Issue.record("\(what): still \(last) after \(limit)")
                return limit
            }
            Thread.sleep(forTimeInterval: 0.1)
            last = try read()
        }
        return ContinuousClock.now - start
    }

    @Test func knotAndNSDFollowTheMembersByNotify() throws {
        let knotPort = try FreePort.loopback()
        var nsdPort = try FreePort.loopback()
        while nsdPort == knotPort { nsdPort = try FreePort.loopback() }
        let (folder, mcdns) = try Self.startPrimary(notify: [knotPort, nsdPort])
        defer {
            mcdns.stop()
            folder.remove()
        }
        let primary = try Dig(port: mcdns.port)
        _ = try LiveRecordsEndToEndTests.waitFor(primary, Self.g, "A", within: .seconds(10)) { $0.count == 3 }

        let knot = try SecondaryServerProcess.start(
            .knot,
            port: knotPort,
            zones: ["example.com."],
            primaryPort: mcdns.port,
            key: Self.key
        )
        defer { knot.stop() }
        let nsd = try SecondaryServerProcess.start(
            .nsd,
            port: nsdPort,
            zones: ["example.com."],
            primaryPort: mcdns.port,
            key: Self.key
        )
        defer { nsd.stop() }

        // Both take the zone, and then hold exactly what mcdns transfers: its global view and the static records.
        let full = try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed).records
        #expect(full.contains { $0.hasPrefix("web.shop.acme.svc.example.com. 30 IN A 198.51.100.30") }, "\(full)")
        #expect(full.contains { $0.hasPrefix("ns1.example.com. 300 IN A 192.0.2.53") }, "\(full)")
        for secondary in [knot, nsd] {
            _ = try Self.waitFor(
                "\(secondary.implementation) AXFR",
                within: .seconds(20),
                {
                    try Self.axfr(port: secondary.port, zone: "example.com.").records
                }
            ) { $0 == full }
            let dig = try Dig(port: secondary.port)
            #expect(
                try LiveRecordsEndToEndTests.rdata(dig, Self.g, "A")
                    == LiveRecordsEndToEndTests.rdata(primary, Self.g, "A")
            )
        }

        // A member changes: the SOA refresh is 7200 s, so only NOTIFY can bring the change over this quickly.
        let west = folder.url.appendingPathComponent("west-1/web.yaml")
        let original = try String(contentsOf: west, encoding: .utf8)
        try original.replacingOccurrences(of: "198.51.100.30", with: "198.51.100.99")
            .write(to: west, atomically: true, encoding: .utf8)
        _ = try LiveRecordsEndToEndTests.waitFor(primary, Self.g, "A", within: .seconds(5)) {
            $0.contains("198.51.100.99")
        }
        let expected = try LiveRecordsEndToEndTests.rdata(primary, Self.g, "A")
        for secondary in [knot, nsd] {
            let dig = try Dig(port: secondary.port)
            let took = try Self.waitFor(
                "\(secondary.implementation) \(Self.g) A",
                within: .seconds(10),
                {
                    try LiveRecordsEndToEndTests.rdata(dig, Self.g, "A")
                }
            ) { $0 == expected }
            #expect(took < .seconds(10), "\(secondary.implementation):\n\(secondary.log)")
        }
        // And the whole zone again equals mcdns's.
        let after = try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed).records
        for secondary in [knot, nsd] {
            _ = try Self.waitFor(
                "\(secondary.implementation) AXFR after the change",
                within: .seconds(10),
                {
                    try Self.axfr(port: secondary.port, zone: "example.com.").records
                }
            ) { $0 == after }
        }
        #expect(mcdns.isRunning, "mcdns exited:\n\(mcdns.log)")
        #expect(mcdns.log.contains("tsig.key=xfr-key."), "no signed transfer logged:\n\(mcdns.log)")
        // After the first full transfer each secondary asked IXFR and got the step from the journal.
        let incremental = mcdns.log.components(separatedBy: "dns.transfer=incremental dns.type=IXFR").count - 1
        #expect(incremental >= 2, "\(incremental) incremental transfers:\n\(mcdns.log)")
        #expect(knot.log.contains("IXFR, incoming"), "\(knot.log)")
    }

    /// The SOA serial `port` answers for example.com.
    static func serial(port: UInt16) throws -> UInt32 {
        let dig = try Dig(port: port)
        let soa = try #require(try dig.query("example.com", "SOA")?.answer.first?.rdata.first)
        return try #require(UInt32(soa.split(separator: " ")[2]))
    }

    @Test func ixfrIsIncrementalWhileTheJournalHoldsTheSerialAndFullOtherwise() throws {
        let (folder, mcdns) = try Self.startPrimary(notify: [])
        defer { folder.remove() }
        let primary = try Dig(port: mcdns.port)
        _ = try LiveRecordsEndToEndTests.waitFor(primary, Self.g, "A", within: .seconds(10)) { $0.count == 3 }
        let before = try Self.serial(port: mcdns.port)
        let west = folder.url.appendingPathComponent("west-1/web.yaml")
        let original = try String(contentsOf: west, encoding: .utf8)
        try original.replacingOccurrences(of: "198.51.100.30", with: "198.51.100.99")
            .write(to: west, atomically: true, encoding: .utf8)
        _ = try LiveRecordsEndToEndTests.waitFor(primary, Self.g, "A", within: .seconds(5)) {
            $0.contains("198.51.100.99")
        }
        let after = try Self.serial(port: mcdns.port)
        #expect(after != before)

        // From the serial before the change: only what changed, between the SOAs of each step (RFC 1995 §4).
        let step = try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed, type: "IXFR=\(before)")
        let lines = step.output.split(separator: "\n").filter { !$0.hasPrefix(";") && !$0.contains("TSIG") }
        #expect(
            lines.contains { $0.contains("web.shop.acme.svc.example.com.") && $0.hasSuffix("198.51.100.30") },
            "\(step.output)"
        )
        #expect(
            lines.contains { $0.contains("web.shop.acme.svc.example.com.") && $0.hasSuffix("198.51.100.99") },
            "\(step.output)"
        )
        #expect(!lines.contains { $0.contains("ns1.example.com.") && $0.contains("\tA\t") }, "\(step.output)")
        #expect(lines.filter { $0.contains("\tSOA\t") }.count >= 4, "\(step.output)")
        #expect(
            lines.first?.contains(" \(after) ") == true && lines.last?.contains(" \(after) ") == true,
            "\(step.output)"
        )
        // Over UDP (RFC 1995 §2): the current SOA alone, which sends the client to TCP.
        let udp = try Self.axfr(
            port: mcdns.port, zone: "example.com.", key: Self.signed, options: ["+notcp"], type: "IXFR=\(before)")
        #expect(udp.records.count == 1 && udp.records[0].contains(" SOA ") && udp.records[0].contains(" \(after) "),
                "\(udp.output)")
        #expect(udp.output.contains("(UDP)") && !udp.output.contains(";; WARNING"), "\(udp.output)")
        // Current: the SOA alone. A serial the journal never held: the whole zone.
        let current = try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed, type: "IXFR=\(after)")
        #expect(current.records.count == 1, "\(current.output)")
        let full = try Self.axfr(
            port: mcdns.port,
            zone: "example.com.",
            key: Self.signed,
            type: "IXFR=\(before &- 1000)"
        )
        let axfr = try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed)
        #expect(full.records == axfr.records && axfr.records.count > 20, "\(full.output)")

        // A restarted mcdns (same members and state directory; the journal is not persisted, the serial goes on
        // above the saved reservation) answers the old serial with the whole zone.
        mcdns.stop()
        let (_, restarted) = try Self.startPrimary(notify: [], reusing: folder)
        defer { restarted.stop() }
        let again = try Dig(port: restarted.port)
        _ = try LiveRecordsEndToEndTests.waitFor(again, Self.g, "A", within: .seconds(10)) { $0.count == 3 }
        let resumed = try Self.serial(port: restarted.port)
        #expect(resumed != after && resumed &- after < 1 << 31, "serial \(resumed) after \(after):\n\(restarted.log)")
        // A secondary that took `after` from the old process asks IXFR from it: the whole zone.
        let fresh = try Self.axfr(port: restarted.port, zone: "example.com.", key: Self.signed, type: "IXFR=\(after)")
        let freshAXFR = try Self.axfr(port: restarted.port, zone: "example.com.", key: Self.signed)
        #expect(
            fresh.records == freshAXFR.records && fresh.records.count > 20,
            "before \(before), after \(after): \(fresh.output)\n\(restarted.log)"
        )
        #expect(!fresh.output.contains(";; ERROR"), "\(fresh.output)")
    }

    @Test func transfersWithAWrongKeyOrFromAnotherAddressAreRefused() throws {
        let admin = try FreePort.loopback()
        let (folder, mcdns) = try Self.startPrimary(notify: [], adminPort: admin, members: false)
        defer {
            mcdns.stop()
            folder.remove()
        }

        // The right key: the static zone between two SOAs, every message's TSIG verified by kdig.
        let good = try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed)
        #expect(good.records.contains { $0.hasPrefix("example.com. 300 IN SOA ns1.example.com.") }, "\(good.output)")
        #expect(good.records.contains("api.example.com. 300 IN A 192.0.2.80"), "\(good.output)")
        #expect(!good.output.contains(";; WARNING") && !good.output.contains(";; ERROR"), "\(good.output)")

        // A wrong secret: NOTAUTH with TSIG error BADSIG. An unknown key: BADKEY. No key where one is required:
        // NOTAUTH. Over UDP: REFUSED.
        let wrongSecret = "hmac-sha256:\(Self.key.name):AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
        let badSig = try Self.axfr(port: mcdns.port, zone: "example.com.", key: wrongSecret)
        #expect(badSig.records.isEmpty && badSig.output.contains("BADSIG"), "\(badSig.output)")
        let badKey = try Self.axfr(
            port: mcdns.port,
            zone: "example.com.",
            key: "hmac-sha256:other-key:\(Self.key.secret)"
        )
        #expect(badKey.records.isEmpty && badKey.output.contains("BADKEY"), "\(badKey.output)")
        let unsigned = try Self.axfr(port: mcdns.port, zone: "example.com.")
        #expect(unsigned.records.isEmpty && unsigned.output.contains("NOTAUTH"), "\(unsigned.output)")
        let udp = try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed, options: ["+notcp"])
        #expect(udp.records.isEmpty && udp.output.contains("REFUSED"), "\(udp.output)")

        // Only 192.0.2.0/24 allowed now (SIGHUP): 127.0.0.1 is REFUSED even with the right key.
        let keyFile = folder.path + "/xfr.key"
        var config = try String(contentsOfFile: mcdns.configPath, encoding: .utf8)
        config = config.replacingOccurrences(of: "allow: [127.0.0.1/32]", with: "allow: [192.0.2.0/24]")
        try config.write(toFile: mcdns.configPath, atomically: true, encoding: .utf8)
        #expect(config.contains(keyFile))
        kill(mcdns.pid, SIGHUP)
        _ = try Self.waitFor(
            "AXFR from a disallowed address",
            within: .seconds(5),
            {
                try Self.axfr(port: mcdns.port, zone: "example.com.", key: Self.signed).output
            }
        ) { $0.contains("REFUSED") }

        let metrics = try ProcessRunner.run(
            "/usr/bin/curl",
            ["-s", "http://127.0.0.1:\(admin)/metrics"],
            timeout: .seconds(10)
        ).stdout
        for (reason, least) in [("bad_signature", 1), ("bad_key", 1), ("missing_key", 1), ("address_not_allowed", 1)] {
            let line = metrics.split(separator: "\n").first {
                $0.hasPrefix("mcdns_transfer_refusals_total{reason=\"\(reason)\"}")
            }
            let count = line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
            #expect(count >= least, "\(reason): \(line ?? "missing")\n\(metrics)")
        }
        #expect(mcdns.isRunning, "mcdns exited:\n\(mcdns.log)")
    }
}
