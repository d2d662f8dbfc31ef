import DNSAnswer
import DNSServer
import DNSWire
import RecordStore
import Testing

/// The UDP batch server on real loopback sockets, asked by `dig` and by a raw client.
@Suite struct UDPServerTests {
    private func configuration(threads: Int = 2) throws -> DNSServerConfiguration {
        try DNSServerConfiguration(listen: ["127.0.0.1:0"], udpThreadsPerAddress: threads)
    }

    @Test func digGetsTheAnswerOverUDPAndTCPOnOnePort() async throws {
        try await ServerFixture.withService(try configuration(), store: try ServerFixture.store()) { addresses in
            let address = try #require(addresses.first)
            #expect(address.host == "127.0.0.1")
            #expect(address.port != 0)
            #expect(try await ServerFixture.dig(address, ["www.example.test", "A", "+short"]) == "192.0.2.80")
            #expect(try await ServerFixture.dig(address, ["www.example.test", "AAAA", "+short"]) == "2001:db8::80")
            #expect(
                try await ServerFixture.dig(address, ["www.example.test", "A", "+short", "+tcp"]) == "192.0.2.80"
            )
            let full = try await ServerFixture.dig(address, ["missing.example.test", "A", "+norecurse"])
            #expect(full.contains("status: NXDOMAIN"))
            #expect(full.contains("flags: qr aa"))
        }
    }

    @Test func anAnswerTooBigForUDPIsTruncatedAndComesWholeOverTCP() async throws {
        try await ServerFixture.withService(try configuration(), store: try ServerFixture.store()) { addresses in
            // 200 A records (about 3.2 KB) fit neither 512 bytes nor the 1232-byte EDNS default.
            let udp = try await ServerFixture.dig(addresses[0], ["big.example.test", "A", "+ignore", "+norecurse"])
            #expect(udp.contains(" tc"))
            #expect(udp.contains("ANSWER: 0"))
            let tcp = try await ServerFixture.dig(addresses[0], ["big.example.test", "A", "+tcp", "+short"])
            #expect(tcp.split(separator: "\n").count == 200)
            // Without +ignore, dig itself retries a truncated answer over TCP on the same port.
            let retried = try await ServerFixture.dig(addresses[0], ["big.example.test", "A", "+short"])
            #expect(retried.split(separator: "\n").count == 200)
        }
    }

    @Test func manyQueriesFromManyClientsAreAllAnswered() async throws {
        try await ServerFixture.withService(try configuration(), store: try ServerFixture.store()) { addresses in
            let port = addresses[0].port
            // Several sockets, so the kernel spreads them over the SO_REUSEPORT group; each sends bursts that
            // the batch loop takes in few recvmmsg calls (bursts of 16, well inside the socket buffers, since
            // UDP may drop what does not fit).
            try await withThrowingTaskGroup(of: Void.self) { group in
                for client in 0..<4 {
                    group.addTask {
                        try await ServerFixture.onThread {
                            let socket = try TestSocket(.udp, port: port)
                            for burst in 0..<8 {
                                let ids = (0..<16).map { UInt16(client * 1000 + burst * 16 + $0) }
                                for id in ids {
                                    try socket.send(try ServerFixture.query("mail.example.test", .a, id: id))
                                }
                                var answered = Set<UInt16>()
                                for _ in ids {
                                    let response = try Message(wire: try socket.receive())
                                    #expect(response.answer.contains { $0.contains("192.0.2.25") })
                                    answered.insert(response.id)
                                }
                                #expect(answered == Set(ids))
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }

    @Test func malformedDatagramsDoNotStopTheServer() async throws {
        // One thread: every datagram goes through the same loop, in arrival order.
        try await ServerFixture.withService(try configuration(threads: 1), store: try ServerFixture.store()) {
            addresses in
            let address = addresses[0]
            try await ServerFixture.onThread {
                // Garbage from one socket, whose replies (FORMERR for some) nobody reads; valid queries from another.
                let attacker = try TestSocket(.udp, port: address.port)
                let client = try TestSocket(.udp, port: address.port)
                var generator = SplitMix64(seed: 0x6D63_646E_73)
                let valid = try ServerFixture.query("www.example.test", .a, id: 0x4242)
                var garbage: [[UInt8]] = [[], [0], [0x12, 0x34], Array(valid.prefix(11))]
                // Every prefix of a valid query, and the query with trailing junk.
                for cut in 12..<valid.count { garbage.append(Array(valid.prefix(cut))) }
                garbage.append(valid + [0xFF, 0xFF, 0xFF])
                // Headers claiming questions and records that are not there.
                garbage.append([0, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF])
                // A compression pointer pointing at itself.
                garbage.append([0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1])
                // A response (QR set), which a server must never answer.
                var response = valid
                response[2] |= 0x80
                garbage.append(response)
                for _ in 0..<300 {
                    let length = Int(generator.next() % 600)
                    garbage.append((0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
                }
                // In rounds small enough for the socket buffers, each followed by a valid query: the loop has
                // read the whole round before it reaches the query, and must still answer it.
                var round = 0
                for start in stride(from: 0, to: garbage.count, by: 40) {
                    for datagram in garbage[start..<min(start + 40, garbage.count)] { try attacker.send(datagram) }
                    var query = valid
                    query[1] = UInt8(round)
                    try client.send(query)
                    let answer = try Message(wire: try client.receive())
                    #expect(answer.id == 0x4200 | UInt16(round))
                    #expect(answer.rcode == .noError && answer.aa)
                    #expect(answer.answer.contains { $0.contains("192.0.2.80") })
                    round += 1
                }
                #expect(round == (garbage.count + 39) / 40)
            }
            // And a fresh client is served too.
            #expect(try await ServerFixture.dig(address, ["www.example.test", "A", "+short"]) == "192.0.2.80")
        }
    }

    @Test func aDroppedDatagramGetsNoReply() async throws {
        try await ServerFixture.withService(try configuration(threads: 1), store: try ServerFixture.store()) {
            addresses in
            try await ServerFixture.onThread {
                let socket = try TestSocket(.udp, port: addresses[0].port)
                // Too short for a header, and a response: the responder returns 0 and the loop sends nothing.
                // One socket and one thread answer in order, so any reply to these would arrive first.
                try socket.send([0xAB, 0xCD, 0x01])
                var response = try ServerFixture.query("www.example.test", .a, id: 0x1111)
                response[2] |= 0x80
                try socket.send(response)
                try socket.send(try ServerFixture.query("www.example.test", .a, id: 0x2222))
                let first = try Message(wire: try socket.receive())
                #expect(first.id == 0x2222)
            }
        }
    }

    @Test func aTableWithNoZonesRefusesAndAPublishTakesEffect() async throws {
        let store = RecordStore(initial: AnswerTable(serial: 1))
        try await ServerFixture.withService(try configuration(), store: store) { addresses in
            let refused = try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+norecurse"])
            #expect(refused.contains("status: REFUSED"))
            store.publish(try ServerFixture.table())
            #expect(try await ServerFixture.dig(addresses[0], ["www.example.test", "A", "+short"]) == "192.0.2.80")
        }
    }

    @Test func cancellingTheTaskStopsTheThreadsAndRunReturns() async throws {
        let address = try ListenAddress(parsing: "127.0.0.1:0")
        let server = UDPBatchServer(
            addresses: [address],
            threadsPerAddress: 2,
            store: try ServerFixture.store(),
            logger: ServerFixture.logger
        )
        let run = Task { try await server.run() }
        let bound = try await server.ready()
        #expect(server.boundAddresses == bound)
        #expect(try await ServerFixture.dig(bound[0], ["www.example.test", "A", "+short"]) == "192.0.2.80")
        run.cancel()
        try await run.value
        // The port is free again: a socket without SO_REUSEPORT can take it.
        #expect(try PortProbe.becomesFree(.udp, port: bound[0].port))
    }

    @Test func anAddressThatIsNotLocalFailsRunAndReady() async throws {
        // 192.0.2.1 (TEST-NET-1) is assigned to no interface here, so bind fails with EADDRNOTAVAIL.
        let server = UDPBatchServer(
            addresses: [try ListenAddress(parsing: "192.0.2.1:0")],
            threadsPerAddress: 1,
            store: try ServerFixture.store(),
            logger: ServerFixture.logger
        )
        await #expect(throws: DNSServerError.self) { try await server.run() }
        await #expect {
            _ = try await server.ready()
        } throws: { error in
            (error as? DNSServerError)?.message.contains("192.0.2.1") == true
        }
    }
}

/// A small deterministic generator, so the garbage a failure was seen with can be sent again.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
