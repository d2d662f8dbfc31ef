import DNSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `mcdns serve` as an operator runs it: a subprocess on a free loopback port, queried with `dig`, stopped with
/// SIGTERM.
@Suite struct ServeEndToEndTests {
    /// A config serving the repository's zones on `port`.
    static func writeConfig(in dir: TemporaryDirectory, port: Int) throws -> String {
        try dir.write(
            "mcdns.yaml",
            """
            listen: { dns: ["127.0.0.1:\(port)"], admin: "127.0.0.1:0" }
            zonesDir: \(MCDNSProcess.packageRoot)/zones
            stateDir: state
            dns: { udpThreadsPerAddress: 2, tcpIdleTimeout: 5s }
            """
        )
    }

    static func dig(_ arguments: [String]) throws -> String {
        let dig = try ProcessRunner.locate("dig", package: "dnsutils")
        // One try with a short timeout: the server is already known to be listening.
        let output = try ProcessRunner.run(dig, ["+norecurse", "+time=3", "+tries=1"] + arguments, timeout: .seconds(10))
        return output.stdout
    }

    /// Run once as an operator's shell starts it, and once with SIGTERM, SIGINT and SIGHUP blocked, as a parent
    /// using Foundation's `Process` leaves them: SIGTERM must stop it either way.
    @Test(.timeLimit(.minutes(2)), arguments: [false, true])
    func serveAnswersOverUDPAndTCPAndStopsOnSIGTERM(startedWithSignalsBlocked: Bool) async throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        // The free port can be taken between picking and binding; then mcdns exits and we pick again.
        for attempt in 1...5 {
            let port = try FreePort.pick()
            let config = try Self.writeConfig(in: dir, port: port)
            let process = try MCDNSProcess.start(["serve", "--config", config],
                                                 blockedSignals: startedWithSignalsBlocked ? [SIGTERM, SIGINT, SIGHUP] : [])
            let stderr = OutputLines(try #require(process.standardError))
            let ready = await stderr.wait(for: "listening on udp 127.0.0.1:\(port)", timeout: .seconds(60))
            guard ready else {
                process.send(SIGKILL)
                _ = await stderr.waitForEnd(timeout: .seconds(10))
                process.waitUntilExit()
                if stderr.all.contains("in use") && attempt < 5 { continue }
                Issue.record("mcdns did not become ready:\n\(stderr.all)")
                return
            }
            #expect(stderr.all.contains("loaded zone example.com. (22 records) from"))
            #expect(stderr.all.contains("(2 sockets), tcp 127.0.0.1:\(port)"))

            for transport in ["+notcp", "+tcp"] {
                let soa = try Self.dig(["@127.0.0.1", "-p", "\(port)", transport, "example.com", "SOA"])
                #expect(soa.contains("status: NOERROR"), "\(soa)")
                #expect(soa.contains("flags: qr aa"), "\(soa)")
                #expect(
                    soa.contains("ns1.example.com. hostmaster.example.com. 2026112701 7200 900 1209600 5"),
                    "\(soa)"
                )
            }
            let refused = try Self.dig(["@127.0.0.1", "-p", "\(port)", "example.org", "A"])
            #expect(refused.contains("status: REFUSED"), "\(refused)")

            process.send(SIGTERM)
            #expect(await stderr.waitForEnd(timeout: .seconds(30)), "mcdns did not stop on SIGTERM")
            process.waitUntilExit()
            #expect(process.termination == .exit(0), "\(stderr.all)")
            return
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func serveExitsWithAnErrorWhenItsPortIsTaken() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let holder = try FreePort.holdTCP()
        defer { close(holder.descriptor) }
        let config = try Self.writeConfig(in: dir, port: holder.port)
        let result = try MCDNSProcess.run(["serve", "--config", config])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.standardError.contains("127.0.0.1:\(holder.port)"), "\(result.output)")
        #expect(result.standardError.contains("Address already in use"), "\(result.output)")
        #expect(!result.standardError.contains("listening on udp"))
    }

    @Test func serveRefusesABrokenZone() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        let zone = try dir.write(
            "zones/broken.test.zone",
            """
            $ORIGIN broken.test.
            @    3600 IN SOA ns1 hostmaster 1 7200 900 1209600 5
            @    3600 IN NS  ns1
            ns1  3600 IN A   192.0.2.1
            www  3600 IN AAAA not-an-address

            """
        )
        let config = try dir.write("mcdns.yaml", "listen: { dns: [\"127.0.0.1:0\"] }\n")
        let result = try MCDNSProcess.run(["serve", "--config", config])
        #expect(result.status == 1, "\(result.output)")
        #expect(result.standardError.contains("\(zone):5: "), "\(result.output)")
        #expect(!result.standardError.contains("listening on"))
    }

    @Test func serveRefusesABrokenConfig() throws {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.makeDirectory("zones")
        let config = try dir.write("mcdns.yaml", "listen:\n  dns: [\"127.0.0.1:0\"]\n\nstaleGracePeriod: forever\n")
        let result = try MCDNSProcess.run(["serve", "--config", config])
        #expect(result.status == 1)
        #expect(result.standardError.contains("\(config):4: staleGracePeriod: \"forever\" is not a duration"))
    }
}
