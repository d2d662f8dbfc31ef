import DNSServer
import DNSWire
import Logging
import ServiceLifecycle
import Testing

/// The TCP server on real loopback sockets, with a raw client that frames by hand.
@Suite struct TCPServerTests {
    private func configuration(
        idleTimeout: Duration = .seconds(10),
        maxConnections: Int = 64
    ) throws -> DNSServerConfiguration {
        try DNSServerConfiguration(
            listen: ["127.0.0.1:0"],
            udpThreadsPerAddress: 1,
            tcpIdleTimeout: idleTimeout,
            maxTCPConnections: maxConnections
        )
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
                #expect(responses[3].rcode == 3)
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

    @Test func connectionsBeyondTheCapAreClosed() async throws {
        try await ServerFixture.withService(try configuration(maxConnections: 2), store: try ServerFixture.store()) {
            addresses in
            let port = addresses[0].port
            try await ServerFixture.onThread {
                let first = try TestSocket(.tcp, port: port)
                let second = try TestSocket(.tcp, port: port)
                // A round trip on each proves both were accepted and counted.
                for (id, socket) in [(UInt16(1), first), (2, second)] {
                    try socket.send(TestSocket.framed(try ServerFixture.query("www.example.test", .a, id: id)))
                    #expect(try Message(wire: try #require(try socket.receiveFramed())).id == id)
                }
                let third = try TestSocket(.tcp, port: port)
                #expect(try third.waitForClose())
                // The two within the cap still work.
                try first.send(TestSocket.framed(try ServerFixture.query("mail.example.test", .a, id: 3)))
                #expect(try Message(wire: try #require(try first.receiveFramed())).id == 3)
            }
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
