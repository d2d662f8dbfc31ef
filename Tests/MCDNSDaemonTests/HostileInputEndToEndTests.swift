import DNSTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Issue 22's adversarial findings against a real daemon on loopback: each input once crashed or starved it.
@Suite(.serialized) struct HostileInputEndToEndTests {
    static func mcdns(_ arguments: [String]) throws -> ProcessOutput {
        try ProcessRunner.run(MCDNSProcess.binary, arguments, timeout: .seconds(30))
    }

    static let global = "web.shop.acme.svc.example.com"

    /// Finding 1: a type number that does not fit 16 bits trapped in `RRType(mnemonic:)`, from the admin API
    /// (killing the daemon), from `mcdns explain` (the same) and from `mcdns query` (killing the CLI).
    @Test(.timeLimit(.minutes(2)))
    func typeNumbersThatDoNotFitAreBadRequests() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        for type in ["TYPE65536", "TYPE-1", "TYPE99999999999999999999"] {
            let reply = try daemon.http("/v1/explain?name=\(Self.global)&type=\(type)")
            #expect(reply.status == 400, "\(type): \(reply.body)")
            #expect(reply.body.contains("\(type) is not a record type"), "\(reply.body)")
            let explain = try Self.mcdns(["explain", Self.global, type, "--admin", daemon.admin])
            #expect(explain.status == 64, "\(type): \(explain.stderr)")
            #expect(explain.stderr.contains("is not a record type"), "\(explain.stderr)")
            let query = try Self.mcdns(["query", Self.global, type, "--server", "127.0.0.1:\(daemon.dnsPort)"])
            #expect(query.status == 64, "\(type): \(query.stderr)")
            #expect(query.stderr.contains("\(type) is not a record type"), "\(query.stderr)")
        }
        let timeout = try Self.mcdns(["records", "--timeout", "99999999999", "--admin", daemon.admin])
        #expect(timeout.status == 64, "\(timeout.stderr)")
        // Still alive and answering.
        #expect(try daemon.http("/v1/explain?name=\(Self.global)&type=TYPE65535").status == 200)
        #expect(try daemon.query(Self.global)?.answer.isEmpty == false)
        #expect(await daemon.stop() == 0)
    }
}
