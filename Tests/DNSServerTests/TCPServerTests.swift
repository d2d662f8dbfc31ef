import DNSServer
import DNSWire
import Glibc
import Logging
import ServiceLifecycle
import Testing

/// The TCP server on real loopback sockets, with a raw client that frames by hand.
@Suite struct TCPServerTests {
    private func configuration(
        idleTimeout: Duration = .seconds(10),
        messageTimeout: Duration = .seconds(2),
        maxConnections: Int = 64,
        perSource: Int = 64,
        maxPipelined: Int = 64
    ) throws -> DNSServerConfiguration {
        try DNSServerConfiguration(
            listen: ["127.0.0.1:0"],
            udpThreadsPerAddress: 1,
            tcp: try TCPLimits(
                idleTimeout: idleTimeout,
                messageTimeout: messageTimeout,
                maxConnections: maxConnections,
                maxConnectionsPerSource: perSource,
                maxPipelined: maxPipelined
            )
        )
    }

    /// Whether `socket` gets the answer to one query (false, not a test failure, when it is closed instead).
    private func answers(_ socket: TestSocket, id: UInt16) -> Bool {
        guard let query = try? ServerFixture.query("www.example.test", .a, id: id),
              (try? socket.send(TestSocket.framed(query))) != nil,
              let reply = (try? socket.receiveFramed()) ?? nil
        else { return false }
        return (try? Message(wire: reply))?.id == id
    }

    /// One query and its answer on `socket`.
    private func roundTrip(_ socket: TestSocket, id: UInt16) throws -> Bool {
        try socket.send(TestSocket.framed(try ServerFixture.query("www.example.test", .a, id: id)))
        return try Message(wire: try #require(try socket.receiveFramed())).id == id
    }

    @Test func pipelinedQueriesOnOneConnectionAreAnsweredInOrder() async throws {
        try await ServerFixture.withService(try configuration(), store: try ServerFixture.store()) { addresses in
            try await ServerFixture.onThread {
                let socket = try TestSocket(.tcp, port: addresses[0].port)
                let names = ["www", "mail", "ns1", "missing", "www"]
                var bytes: [UInt8] = []
                for (index, name) in names.enumerated() {
                    bytes += TestSocket.framed(try ServerFixture.query("\(name).example.test", .a, id: UInt16(index)))
                }
                // All five in one write: the server must split the stream itself.
                try socket.send(bytes)
                var responses: [Message] = []
                for _ in names {
                    responses.append(try Message(wire: try #require(try socket.receiveFramed())))
                }
                #expect(responses.map(\.id) == [0, 1, 2, 3, 4])
                #expect(responses[0].answer.contains { $0.contains("192.0.2.80") })
                #expect(responses[1].answer.contains { $0.contains("192.0.2.25") })
                #expect(responses[2].answer.contains { $0.contains("192.0.2.1") })
                #expect(responses[3].rcode == .nxDomain)
                // The connection stays open for more.
                try socket.send(TestSocket.framed(try ServerFixture.query("www.example.test", .aaaa, id: 99)))
                let more = try Message(wire: try #require(try socket.receiveFramed()))
                #expect(more.id == 99)
                #expect(more.answer.contains { $0.contains("2001:db8::80") })
            }
        }
    }

    @Test func aSilentConnectionIsClosedAtTheIdleTimeout() async throws {
        let configuration = try configuration(idleTimeout: .milliseconds(300))
        try await ServerFixture.withService(configuration, store: try ServerFixture.store()) { addresses in
            try await ServerFixture.onThread {
                let socket = try TestSocket(.tcp, port: addresses[0].port, timeout: 5)
                // Closed by the server well before the client's own 5 s receive timeout.
                #expect(try socket.waitForClose())
            }
        }
    }

    @Test func aLengthPrefixLargerThanTheDataIsClosedAndOthersAreServed() async throws {
        let configuration = try configuration(idleTimeout: .milliseconds(300))
        try await ServerFixture.withService(configuration, store: try ServerFixture.store()) { addresses in
            let port = addresses[0].port
            try await ServerFixture.onThread {
                let stalled = try TestSocket(.tcp, port: port)
                let query = try ServerFixture.query("www.example.test", .a, id: 1)
                // Promise 512 bytes, send the query's few.
                try stalled.send([0x02, 0x00] + query)
                // Meanwhile another client is answered.
                let other = try TestSocket(.tcp, port: port)
                try other.send(TestSocket.framed(try ServerFixture.query("www.example.test", .a, id: 2)))
                #expect(try Message(wire: try #require(try other.receiveFramed())).id == 2)
                #expect(try stalled.waitForClose())
            }
        }
    }

    /// Slowloris: a client sending one byte every 100 ms is closed at the 400 ms message deadline (long before
    /// the 10 s idle timeout, which its bytes would keep resetting), while `dig +tcp` is answered.
    @Test func aSlowSenderIsClosedAtTheMessageDeadlineWhileOthersAreAnswered() async throws {
        let configuration = try configuration(idleTimeout: .seconds(10), messageTimeout: .milliseconds(400))
        try await ServerFixture.withService(configuration, store: try ServerFixture.store()) { addresses in
            let port = addresses[0].port
            let bytes = TestSocket.framed(try ServerFixture.query("www.example.test", .a, id: 1))
            async let trickle = ServerFixture.onThread { () throws -> (sent: Int, elapsed: Duration)? in
                let socket = try TestSocket(.tcp, port: port)
                let start = ContinuousClock.now
                for (index, byte) in bytes.enumerated() {
                    do { try socket.send([byte]) } catch { return (index, ContinuousClock.now - start) }
                    if socket.peerClosed(withinMilliseconds: 100) { return (index + 1, ContinuousClock.now - start) }
                }
                return nil
            }
            let answer = try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+short", "+tcp"])
            #expect(answer.contains("192.0.2.80"))
            let closed = try #require(try await trickle, "the trickling client sent its whole message unclosed")
            #expect(closed.sent >= 3 && closed.sent < bytes.count)
            #expect(closed.elapsed >= .milliseconds(400) && closed.elapsed < .seconds(5))
            let fresh = try await ServerFixture.dig(addresses[0], ["mail.example.test", "A", "+short", "+tcp"])
            #expect(fresh == "192.0.2.25")
        }
    }

    @Test func connectionsBeyondTheCapPerSourceAreClosedAndOtherSourcesServed() async throws {
        let configuration = try configuration(maxConnections: 64, perSource: 2)
        try await ServerFixture.withService(configuration, store: try ServerFixture.store()) { addresses in
            let port = addresses[0].port
            try await ServerFixture.onThread {
                let first = try TestSocket(.tcp, port: port)
                let second = try TestSocket(.tcp, port: port)
                // A round trip on each proves both were accepted and counted.
                #expect(try roundTrip(first, id: 1))
                #expect(try roundTrip(second, id: 2))
                let third = try TestSocket(.tcp, port: port)
                #expect(try third.waitForClose())
                // Another address has its own two.
                let elsewhere = try TestSocket(.tcp, port: port, source: "127.0.0.2")
                #expect(try roundTrip(elsewhere, id: 3))
                #expect(try roundTrip(first, id: 4))
                // A slot given back is free again. The server frees it when its side of the connection closes,
                // which can come just after the client sees the close: new connections are tried until one is
                // served, for a second at most.
                second.shutdown()
                #expect(try second.waitForClose())
                var served = false
                for attempt in 0..<50 where !served {
                    let again = try TestSocket(.tcp, port: port)
                    served = answers(again, id: UInt16(5 + attempt))
                    if !served { usleep(20_000) }
                }
                #expect(served, "a connection from the source whose slot was given back is served")
            }
        }
    }

    /// At the total cap a new client is served, and the connection that went longest without a query is closed.
    @Test func aNewConnectionAtTheCapEvictsTheLongestIdle() async throws {
        let configuration = try configuration(maxConnections: 2, perSource: 64)
        try await ServerFixture.withService(configuration, store: try ServerFixture.store()) { addresses in
            let port = addresses[0].port
            try await ServerFixture.onThread {
                let a = try TestSocket(.tcp, port: port)
                #expect(try roundTrip(a, id: 1))
                let b = try TestSocket(.tcp, port: port)
                #expect(try roundTrip(b, id: 2))
                // a asks again: now b is the one idle longest.
                #expect(try roundTrip(a, id: 3))
                let c = try TestSocket(.tcp, port: port)
                #expect(try roundTrip(c, id: 4))
                #expect(try b.waitForClose())
                #expect(try roundTrip(a, id: 5))
                #expect(try roundTrip(c, id: 6))
            }
        }
    }

    /// 500 pipelined queries for a 3 KB answer each with at most 4 answers queued: the server stops and resumes
    /// reading as the client takes answers, and every query is answered in order.
    @Test func manyPipelinedQueriesAreAllAnsweredInOrderUnderTheBound() async throws {
        let configuration = try configuration(maxPipelined: 4)
        try await ServerFixture.withService(configuration, store: try ServerFixture.store()) { addresses in
            let port = addresses[0].port
            try await ServerFixture.onThread {
                let socket = try TestSocket(.tcp, port: port)
                var bytes: [UInt8] = []
                for id in 0..<500 {
                    bytes += TestSocket.framed(try ServerFixture.query("big.example.test", .a, id: UInt16(id)))
                }
                try socket.send(bytes)
                var ids: [UInt16] = []
                for _ in 0..<500 {
                    let response = try Message(wire: try #require(try socket.receiveFramed()))
                    #expect(response.answer.count == 200)
                    ids.append(response.id)
                }
                #expect(ids == (0..<500).map { UInt16($0) })
            }
        }
    }

    /// A client that pipelines queries and never reads the answers (6 MB of them, more than the kernel buffers
    /// hold) is closed once its answers have waited the idle timeout; it gets fewer answers than it asked for.
    @Test func aClientThatDoesNotReadItsAnswersIsClosed() async throws {
        let configuration = try configuration(idleTimeout: .milliseconds(300), maxPipelined: 4)
        try await ServerFixture.withService(configuration, store: try ServerFixture.store()) { addresses in
            let port = addresses[0].port
            try await ServerFixture.onThread {
                let socket = try TestSocket(.tcp, port: port, receiveBuffer: 4096)
                var bytes: [UInt8] = []
                for id in 0..<2000 {
                    bytes += TestSocket.framed(try ServerFixture.query("big.example.test", .a, id: UInt16(id)))
                }
                try socket.send(bytes)
                #expect(socket.waitUntilServerCloses(serverPort: port), "the server kept the non-reading client")
                var answered = 0
                while let message = try socket.receiveFramed() {
                    _ = message
                    answered += 1
                }
                #expect(answered < 2000)
            }
        }
    }

    /// RFC 7828: a TCP query carrying edns-tcp-keepalive gets the connection's idle timeout back (in 100 ms units,
    /// so 25 s reads 250); one without the option, or over UDP (§3.3.1), gets no option.
    @Test func ednsTCPKeepaliveAnswersTheIdleTimeoutOverTCPOnly() async throws {
        try await ServerFixture.withService(try configuration(idleTimeout: .seconds(25)), store: try ServerFixture.store()) {
            addresses in
            let asked = try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+tcp", "+keepalive"])
            #expect(asked.contains("TCP KEEPALIVE: 25.0 secs"), "\(asked)")
            #expect(asked.contains("192.0.2.80"), "\(asked)")
            let unasked = try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+tcp"])
            #expect(!unasked.contains("KEEPALIVE"), "\(unasked)")
            let overUDP = try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+notcp", "+keepalive"])
            #expect(!overUDP.contains("KEEPALIVE"), "\(overUDP)")
            #expect(overUDP.contains("192.0.2.80"), "\(overUDP)")
        }
    }

    @Test func aQueryTheResponderDropsClosesTheConnection() async throws {
        try await ServerFixture.withService(try configuration(), store: try ServerFixture.store()) { addresses in
            try await ServerFixture.onThread {
                let socket = try TestSocket(.tcp, port: addresses[0].port)
                let valid = try ServerFixture.query("www.example.test", .a, id: 5)
                try socket.send(TestSocket.framed(valid) + TestSocket.framed([0, 1, 2]))
                #expect(try Message(wire: try #require(try socket.receiveFramed())).id == 5)
                #expect(try socket.waitForClose())
            }
        }
    }

    @Test func gracefulShutdownClosesOpenConnectionsAndReleasesThePorts() async throws {
        let store = try ServerFixture.store()
        let service = DNSService(configuration: try configuration(), store: store, logger: ServerFixture.logger)
        let group = ServiceGroup(services: [service], logger: ServerFixture.logger)
        let run = Task { try await group.run() }
        let address = try await service.ready()[0]
        #expect(service.boundAddresses == [address])

        // An open connection that has been answered and is waiting for more.
        let socket = try TestSocket(.tcp, port: address.port)
        try await ServerFixture.onThread {
            try socket.send(TestSocket.framed(try ServerFixture.query("www.example.test", .a, id: 1)))
            #expect(try Message(wire: try #require(try socket.receiveFramed())).id == 1)
        }

        await group.triggerGracefulShutdown()
        // The server closes the idle connection instead of waiting for its 10 s timeout...
        #expect(try await ServerFixture.onThread { try socket.waitForClose() })
        // ...and run() returns without error.
        try await run.value

        #expect(try PortProbe.becomesFree(.udp, port: address.port))
        #expect(try PortProbe.becomesFree(.tcp, port: address.port))
        #expect(throws: TestSocket.Failure.self) { try TestSocket(.tcp, port: address.port) }
    }

    @Test func tcpServerAloneReportsItsPortAndStopsOnCancel() async throws {
        let server = TCPServer(
            addresses: [try ListenAddress(parsing: "127.0.0.1:0")],
            store: try ServerFixture.store(),
            logger: ServerFixture.logger
        )
        let run = Task { try await server.run() }
        let bound = try await server.ready()
        #expect(bound[0].port != 0)
        #expect(try await ServerFixture.dig(bound[0], ["mail.example.test", "A", "+short", "+tcp"]) == "192.0.2.25")
        run.cancel()
        try await run.value
        #expect(try PortProbe.becomesFree(.tcp, port: bound[0].port))
    }
}

@Suite struct DNSServiceBindingTests {
    @Test func aTCPPortInUseFailsTheServiceAndReleasesItsUDPSockets() async throws {
        let holder = try PortHolder()
        let configuration = try DNSServerConfiguration(
            listen: [ListenAddress(host: "127.0.0.1", port: holder.port)],
            udpThreadsPerAddress: 2
        )
        let service = DNSService(configuration: configuration, store: try ServerFixture.store(), logger: ServerFixture.logger)
        await #expect {
            try await service.run()
        } throws: { error in
            (error as? DNSServerError)?.message.contains("TCP 127.0.0.1:\(holder.port)") == true
        }
        await #expect(throws: DNSServerError.self) { _ = try await service.ready() }
        // The UDP side had bound the port and let it go again.
        #expect(try PortProbe.becomesFree(.udp, port: holder.port))
    }
}
