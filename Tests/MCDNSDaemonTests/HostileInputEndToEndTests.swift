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

    /// Finding 4: the admin API kept 3,000 idle connections open, and a request too large for its parser got a 400
    /// on a socket that stayed open. Limits here: 4 connections, 3 s idle.
    @Test(.timeLimit(.minutes(2)))
    func adminConnectionsAreCappedTimedOutAndClosedAfterAnError() async throws {
        let daemon = try await ServedDaemon.start(extra: "admin: { maxConnections: 4, idleTimeout: 3s }")
        defer { daemon.remove() }
        let port = UInt16(daemon.adminPort)

        // Over the cap: the oldest idle connections are closed at once (well before the idle timeout), and a
        // new request is answered.
        let idle = try (0..<6).map { _ in try RawConnection(port: port) }
        #expect(try daemon.http("/healthz").status == 200)
        let closedEarly = idle.filter { $0.waitForClose(within: .seconds(1)) }.count
        #expect(closedEarly >= 3, "\(closedEarly) of 6 idle connections closed within 1 s")

        // Idle: closed after the timeout, not before.
        let lone = try RawConnection(port: port)
        let start = ContinuousClock.now
        #expect(!lone.waitForClose(within: .seconds(1)))
        #expect(lone.waitForClose(within: .seconds(10)))
        let after = ContinuousClock.now - start
        #expect(after >= .seconds(2) && after < .seconds(8), "closed after \(after)")

        // An error response closes the connection: a request too large to parse gets 400, then EOF.
        let large = try RawConnection(port: port)
        large.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + String(repeating: "a", count: 400_000) + "\r\n\r\n")
        let reply = large.receive(within: .seconds(2))
        #expect(reply.hasPrefix("HTTP/1.1 400"), "\(reply.prefix(80))")
        // Closed, not only half-closed: the server's socket is gone (a write to it is reset), so it cannot sit in
        // FIN-WAIT-2 for as long as the client keeps its side open.
        #expect(large.waitForClose(within: .seconds(1)))
        #expect(large.writesFail(within: .seconds(2)))
        // A 404 too; a 200 keeps the connection.
        let normal = try RawConnection(port: port)
        normal.send("GET /v1/records/shop/nope HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(normal.receive(within: .seconds(2)).hasPrefix("HTTP/1.1 404"))
        #expect(normal.waitForClose(within: .seconds(1)))
        let kept = try RawConnection(port: port)
        kept.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(kept.receive(within: .seconds(2)).hasPrefix("HTTP/1.1 200"))
        #expect(!kept.waitForClose(within: .milliseconds(500)))
        #expect(try daemon.http("/healthz").status == 200)
        #expect(await daemon.stop() == 0)
    }
}

/// A plain TCP connection to loopback, for what curl hides: idle sockets, partial requests, when the server closes.
final class RawConnection {
    let fd: Int32

    init(port: UInt16) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard fd >= 0, result == 0 else {
            close(fd)
            throw DaemonFailure("cannot connect to 127.0.0.1:\(port): errno \(errno)")
        }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL))
            }
            if result <= 0 { return }
            sent += result
        }
    }

    /// True when writing fails (reset, broken pipe) within `within`: the peer's socket is closed, not half-closed.
    func writesFail(within: Duration) -> Bool {
        let end = ContinuousClock.now + within
        let byte: [UInt8] = [0x78]
        while ContinuousClock.now < end {
            if byte.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress!, 1, Int32(MSG_NOSIGNAL)) }) < 0 { return true }
            // Waiting for the peer's reset to come back; bounded by `within`.
            usleep(50_000)
        }
        return false
    }

    /// Reads what arrives until `within` passes or the peer closes.
    func receive(within: Duration) -> String {
        var bytes: [UInt8] = []
        let end = ContinuousClock.now + within
        while ContinuousClock.now < end {
            guard let chunk = read(until: end) else { break }
            bytes += chunk
            if String(decoding: bytes, as: UTF8.self).contains("\r\n\r\n") { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// True when the peer closes (EOF or reset) within `within`; data that arrives first is read and dropped.
    func waitForClose(within: Duration) -> Bool {
        let end = ContinuousClock.now + within
        while ContinuousClock.now < end {
            guard let chunk = read(until: end) else { return true }
            if chunk.isEmpty { continue }
        }
        return false
    }

    /// One read: bytes, [] when nothing came before `end`, nil at EOF or error.
    private func read(until end: ContinuousClock.Instant) -> [UInt8]? {
        let left = end - ContinuousClock.now
        let milliseconds = max(
            0,
            Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
        )
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, milliseconds) > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = recv(fd, &buffer, buffer.count, 0)
        guard count > 0 else { return nil }
        return Array(buffer.prefix(count))
    }
}
