import DNSAnswer
import DNSServer
import DNSTestSupport
import DNSWire
import RecordStore
import Testing

/// Response rate limiting and DNS cookies through real UDP sockets, asked by a raw client, `dig` and `kdig`.
@Suite struct RateLimitEndToEndTests {
    static let secret = CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfcf")!

    static func configuration(rate: Int, slip: Int, exempt: [String] = [], cookies: Bool = false) throws
        -> DNSServerConfiguration
    {
        // One thread, so every query meets the same bucket table.
        var configuration = try DNSServerConfiguration(listen: ["127.0.0.1:0"], udpThreadsPerAddress: 1)
        configuration.rateLimit = try RateLimitConfiguration(
            responsesPerSecond: rate, slip: slip, windowSeconds: 1, exempt: exempt.map { IPNetwork($0)! })
        configuration.cookies = cookies ? .fixed(current: secret) : nil
        return configuration
    }

    /// What came back for `count` queries sent at once: full answers, truncated ones (TC=1, no records), and
    /// how many got nothing (the limiter dropped them). Waits at most a second past the last datagram.
    static func burst(_ port: Int, count: Int, name: String = "www.example.test", address: String = "192.0.2.80")
        async throws -> (answered: Int, truncated: Int, missing: Int)
    {
        try await ServerFixture.onThread {
            let socket = try TestSocket(.udp, port: port, timeout: 1)
            for id in 0..<count { try socket.send(try ServerFixture.query(name, .a, id: UInt16(id))) }
            var answered = 0, truncated = 0
            while let response = try? socket.receive(), !response.isEmpty {
                let message = try Message(wire: response)
                if message.tc {
                    #expect(message.answer.isEmpty)
                    truncated += 1
                } else {
                    #expect(message.answer == ["\(name).\t300\tIN\tA\t\(address)"])
                    answered += 1
                }
            }
            return (answered, truncated, count - answered - truncated)
        }
    }

    /// Sends `count` queries and reads nothing: the bucket of (127.0.0.0/24, answer, `name`) is empty after, and
    /// at one response a second it holds less than one for the next second.
    static func flood(_ port: Int, count: Int = 20, name: String) async throws {
        try await ServerFixture.onThread {
            let socket = try TestSocket(.udp, port: port, timeout: 1)
            for id in 0..<count { try socket.send(try ServerFixture.query(name, .a, id: UInt16(id))) }
            // One answer back means the server has read the burst's start; the rest follow in the same batches.
            _ = try socket.receive()
        }
    }

    @Test func limitedResponsesAreTruncatedOrDroppedAndTheMetricsSaySo() async throws {
        let configuration = try Self.configuration(rate: 5, slip: 2)
        let service = DNSService(configuration: configuration, store: try ServerFixture.store(),
                                 logger: ServerFixture.logger)
        let statistics = service.statistics
        try await ServerFixture.withService(service) { addresses in
            let result = try await Self.burst(addresses[0].port, count: 40)
            // A bucket holds one second's worth (5); the burst takes milliseconds, so little refills.
            #expect(result.answered >= 5 && result.answered <= 7)
            // Of the rest, every second one slips out truncated and the others are dropped.
            let limited = 40 - result.answered
            #expect(result.truncated == limited / 2)
            #expect(result.missing == limited - limited / 2)
            let counted = statistics.totals().rateLimited
            #expect(counted[.init(responseClass: "answer", action: "slipped")] == UInt64(result.truncated))
            #expect(counted[.init(responseClass: "answer", action: "dropped")] == UInt64(result.missing))
            // Another name has its own bucket.
            #expect(try await Self.burst(addresses[0].port, count: 3, name: "mail.example.test",
                                         address: "192.0.2.25").answered == 3)
        }
    }

    @Test func digRetriesATruncatedResponseOverTCPWhichIsNotLimited() async throws {
        try await ServerFixture.withService(try Self.configuration(rate: 1, slip: 1),
                                            store: try ServerFixture.store()) { addresses in
            try await Self.flood(addresses[0].port, name: "www.example.test")
            // Limited over UDP: TC=1 with no records …
            let udp = try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+ignore", "+nocookie"])
            #expect(udp.contains(" tc"))
            #expect(udp.contains("ANSWER: 0"))
            // … so dig retries over TCP and gets the answer.
            #expect(try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+short"]) == "192.0.2.80")
        }
    }

    @Test func anExemptSourceIsNotLimited() async throws {
        try await ServerFixture.withService(try Self.configuration(rate: 2, slip: 2, exempt: ["127.0.0.0/8"]),
                                            store: try ServerFixture.store()) { addresses in
            let result = try await Self.burst(addresses[0].port, count: 40)
            #expect(result.answered == 40)
        }
    }

    /// The cookie `dig +cookie` printed: `; COOKIE: <client><server> (good)`.
    static func cookie(in output: String) -> String? {
        for line in output.split(separator: "\n") where line.hasPrefix("; COOKIE: ") {
            return line.dropFirst("; COOKIE: ".count).split(separator: " ").first.map(String.init)
        }
        return nil
    }

    @Test func cookiesAreAnsweredAndAValidServerCookiePassesTheRateLimit() async throws {
        try await ServerFixture.withService(try Self.configuration(rate: 1, slip: 1, cookies: true),
                                            store: try ServerFixture.store()) { addresses in
            let address = addresses[0]
            // dig sends a client cookie and checks the one that comes back against it ("good").
            let first = try await ServerFixture.dig(address, ["www.example.test", "A", "+cookie", "+norecurse"])
            #expect(first.contains("(good)"))
            let cookie = try #require(Self.cookie(in: first))
            #expect(cookie.count == 48)  // 8-byte client cookie + 16-byte version 1 server cookie
            #expect(cookie.dropFirst(16).hasPrefix("01000000"))
            // Sent back, the cookie is accepted and echoed.
            let second = try await ServerFixture.dig(address, ["www.example.test", "A", "+cookie=\(cookie)"])
            #expect(second.contains("status: NOERROR"))
            #expect(Self.cookie(in: second) == cookie)
            // kdig too learns a server cookie.
            let kdig = try ProcessRunner.locate("kdig", package: "knot-dnsutils")
            let knot = try await ServerFixture.onThread {
                try ProcessRunner.run(
                    kdig, ["@127.0.0.1", "-p", "\(address.port)", "+cookie", "+time=3", "+retry=0", "ns1.example.test", "A"],
                    timeout: .seconds(10))
            }
            #expect(knot.status == 0)
            #expect(knot.stdout.contains(";; COOKIE: "))
            #expect(knot.stdout.contains("status: NOERROR"))

            // With the bucket of mail.example.test for 127.0.0.0/24 empty: without a cookie, truncated. With a
            // client cookie only, or a server cookie that is not ours: BADCOOKIE and a fresh server cookie (the
            // client retries with it).
            try await Self.flood(address.port, name: "mail.example.test")
            let plain = try await ServerFixture.dig(address, ["mail.example.test", "A", "+ignore", "+nocookie"])
            #expect(plain.contains(" tc"))
            let forged = String(cookie.prefix(16)) + "01000000" + String(cookie.dropFirst(24).prefix(8))
                + "0000000000000000"
            try await Self.flood(address.port, name: "mail.example.test")
            let bad = try await ServerFixture.dig(address, ["mail.example.test", "A", "+ignore", "+nobadcookie",
                                                            "+cookie=\(forged)"])
            #expect(bad.contains("status: BADCOOKIE"))
            #expect(bad.contains("ANSWER: 0"))
            let fresh = try #require(Self.cookie(in: bad))
            #expect(fresh.prefix(16) == cookie.prefix(16) && fresh != forged)
            // dig by default retries a BADCOOKIE with the server cookie it just got, which passes the limit.
            try await Self.flood(address.port, name: "mail.example.test")
            let retried = try await ServerFixture.dig(address, ["mail.example.test", "A", "+ignore", "+cookie=\(forged)"])
            #expect(retried.contains(";; BADCOOKIE, retrying."))
            #expect(retried.contains("status: NOERROR"))
            #expect(retried.contains("ANSWER: 1"))
            try await Self.flood(address.port, name: "mail.example.test")
            let valid = try await ServerFixture.dig(address, ["mail.example.test", "A", "+ignore", "+cookie=\(cookie)"])
            #expect(valid.contains("status: NOERROR"))
            #expect(valid.contains("ANSWER: 1"))
            #expect(!valid.contains(" tc"))
        }
    }
}
