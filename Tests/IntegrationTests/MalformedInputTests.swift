import DNSTestSupport
import Testing

/// Malformed packets over real sockets against the `mcdns serve` subprocess. Each gets FORMERR (NOTIMP for an
/// unsupported opcode) with its ID echoed, or nothing when the header is too short to answer, and after each the
/// server still answers a valid query over UDP and TCP.
@Suite struct MalformedInputTests {
    /// A short TCP idle timeout so the idle-connection case ends quickly.
    static let idleTimeoutConfig = "dns: { tcpIdleTimeout: 2s }"

    static func startMCDNS() throws -> MCDNSProcess {
        try MCDNSProcess.start(
            binary: KnotDifferentialTests.mcdnsBinary,
            zonesDir: TestZones.directory,
            extraConfig: idleTimeoutConfig
        )
    }

    @Test func malformedUDPQueriesGetTheRightRcodeAndTheServerKeepsAnswering() throws {
        let mcdns = try Self.startMCDNS()
        defer { mcdns.stop() }
        for query in MalformedQuery.all {
            let reply = try LoopbackUDPClient.exchange(query.packet, port: mcdns.port, timeout: .milliseconds(700))
            Self.expect(reply, matches: query, transport: "UDP")
            try Self.expectStillAnswering(port: mcdns.port, after: query.label)
        }
        #expect(mcdns.isRunning, "mcdns exited:\n\(mcdns.log)")
    }

    @Test func malformedTCPQueriesGetTheRightRcodeAndTheServerKeepsAnswering() throws {
        let mcdns = try Self.startMCDNS()
        defer { mcdns.stop() }
        for query in MalformedQuery.all {
            let connection = try LoopbackTCPConnection(port: mcdns.port)
            try connection.send(WireQuery.framed(query.packet))
            let reply = try connection.readMessage(timeout: .milliseconds(1500))
            Self.expect(reply, matches: query, transport: "TCP")
            try Self.expectStillAnswering(port: mcdns.port, after: query.label)
        }
        #expect(mcdns.isRunning, "mcdns exited:\n\(mcdns.log)")
    }

    /// A length prefix promising more than arrives: the server waits for the rest without blocking anyone else,
    /// and drops the connection after the idle timeout.
    @Test func tcpLengthPrefixLargerThanTheData() throws {
        let mcdns = try Self.startMCDNS()
        defer { mcdns.stop() }
        let query = try WireQuery.make(id: 0x1234, name: "www.diff.test", type: .a)
        let connection = try LoopbackTCPConnection(port: mcdns.port)
        try connection.send([0, UInt8(query.count + 40)] + query)
        #expect(try connection.read(timeout: .milliseconds(500)) == .timedOut, "a reply to an incomplete message")
        try Self.expectStillAnswering(port: mcdns.port, after: "a stalled TCP message")
        #expect(try connection.waitForClose(timeout: .seconds(10)), "connection still open after the idle timeout")
        try Self.expectStillAnswering(port: mcdns.port, after: "closing the stalled connection")
    }

    /// A client that connects and sends nothing holds no server resources past the idle timeout, and others are
    /// served meanwhile.
    @Test func silentTCPClientIsClosedAfterTheIdleTimeout() throws {
        let mcdns = try Self.startMCDNS()
        defer { mcdns.stop() }
        let silent = try LoopbackTCPConnection(port: mcdns.port)
        try Self.expectStillAnswering(port: mcdns.port, after: "a silent TCP client connected")
        let start = ContinuousClock.now
        #expect(try silent.waitForClose(timeout: .seconds(10)), "silent connection not closed within 10 s")
        // Not closed at once: the server waited for the client before giving up on it.
        #expect(ContinuousClock.now - start >= .seconds(1))
    }

    /// Several queries pipelined in one write on one connection are all answered.
    @Test func pipelinedTCPQueriesAreAllAnswered() throws {
        let mcdns = try Self.startMCDNS()
        defer { mcdns.stop() }
        let ids: [UInt16] = [1, 2, 3, 4, 5]
        var bytes: [UInt8] = []
        for id in ids { bytes += WireQuery.framed(try WireQuery.make(id: id, name: "www.diff.test", type: .a)) }
        let connection = try LoopbackTCPConnection(port: mcdns.port)
        try connection.send(bytes)
        var answered: [UInt16] = []
        for _ in ids {
            guard let reply = try connection.readMessage(timeout: .seconds(2)), let header = WireQuery.header(of: reply)
            else { break }
            #expect(header.rcode == .noError)
            answered.append(header.id)
        }
        #expect(answered.sorted() == ids)
    }

    static func expect(_ reply: [UInt8]?, matches query: MalformedQuery, transport: String) {
        switch query.expected {
        case .noResponse:
            #expect(reply == nil, "\(transport) \(query.label): expected no reply, got \(reply ?? [])")
        case .rcode(let rcode):
            guard let reply, let header = WireQuery.header(of: reply) else {
                Issue.record("\(transport) \(query.label): expected RCODE \(rcode), got no reply")
                return
            }
            #expect(header.rcode == rcode, "\(transport) \(query.label): RCODE")
            #expect(header.id == MalformedQuery.id, "\(transport) \(query.label): ID not echoed")
            #expect(header.qr, "\(transport) \(query.label): QR not set")
        }
    }

    /// A valid query over UDP and over TCP gets its answer.
    static func expectStillAnswering(port: UInt16, after what: String) throws {
        let query = try WireQuery.make(id: 0x5151, name: "www.diff.test", type: .a)
        let udp = try LoopbackUDPClient.exchange(query, port: port, timeout: .seconds(2))
        let udpHeader = udp.flatMap(WireQuery.header(of:))
        #expect(udpHeader?.id == 0x5151 && udpHeader?.rcode == .noError, "no valid UDP answer after \(what)")
        let connection = try LoopbackTCPConnection(port: port)
        try connection.send(WireQuery.framed(query))
        let tcpHeader = try connection.readMessage(timeout: .seconds(2)).flatMap(WireQuery.header(of:))
        #expect(tcpHeader?.id == 0x5151 && tcpHeader?.rcode == .noError, "no valid TCP answer after \(what)")
    }
}
