import DNSAnswer
import DNSWire
import Testing

@Suite struct MalformedQueryTests {
    let table: AnswerTable
    let valid: [UInt8]

    init() throws {
        table = try Fixture.table()
        valid = try Message.query(name: try DomainName("www.example.com"), type: .a, id: 0xABCD)
    }

    /// Header of `valid` with other counts.
    func header(qd: UInt8 = 1, an: UInt8 = 0, ns: UInt8 = 0, ar: UInt8 = 0, flags0: UInt8 = 0) -> [UInt8] {
        [0xAB, 0xCD, flags0, 0, 0, qd, 0, an, 0, ns, 0, ar]
    }

    /// The header RCODE of a response.
    func rcode(_ response: [UInt8]) -> RCode { RCode(header: response[3]) }

    @Test(arguments: [0, 1, 5, 11])
    func shortHeadersAreDropped(length: Int) {
        #expect(table.respond(raw: Array(valid.prefix(length))).isEmpty)
    }

    @Test func responsesAreNeverAnswered() {
        var packet = valid
        packet[2] |= 0x80
        #expect(table.respond(raw: packet).isEmpty)
    }

    @Test(arguments: [
        ("qdcount 0", [0xAB, 0xCD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] as [UInt8]),
        ("qdcount 2", [0xAB, 0xCD, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0] + [3, 119, 119, 119, 0, 0, 1, 0, 1, 3, 119, 119, 119, 0, 0, 1, 0, 1]),
        ("pointer loop", [0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xC0, 12, 0, 1, 0, 1]),
        ("label over 63", [0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 64] + Array(repeating: 97, count: 64) + [0, 0, 1, 0, 1]),
        ("name over 255", [0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]
            + Array(repeating: [63] + Array(repeating: UInt8(97), count: 63), count: 4).flatMap { $0 } + [0, 0, 1, 0, 1]),
        ("question cut short", [0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 119, 119]),
        ("type missing", [0xAB, 0xCD, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 3, 119, 119, 119, 0, 0]),
    ] as [(String, [UInt8])])
    func malformedQuestionsGetFormErrWithTheirID(_ label: String, _ packet: [UInt8]) {
        let response = table.respond(raw: packet)
        #expect(response.count == 12, "\(label)")
        #expect(response.prefix(2) == [0xAB, 0xCD], "\(label)")
        #expect(response[2] & 0x80 != 0, "\(label)")
        #expect(rcode(response) == .formErr, "\(label)")
    }

    @Test func garbageAfterTheQuestionIsFormErr() {
        let response = table.respond(raw: valid + [1, 2, 3])
        #expect(rcode(response) == .formErr)
    }

    @Test func recordsThatOverrunTheMessageAreFormErr() {
        var packet = valid
        packet[11] = 1  // one additional record announced, none present
        #expect(rcode(table.respond(raw: packet)) == .formErr)
        packet += [0, 0, 41, 4, 0, 0, 0, 0, 0, 0, 10, 1]  // OPT whose RDATA runs past the end
        #expect(rcode(table.respond(raw: packet)) == .formErr)
    }

    @Test func twoOPTRecordsAreFormErr() throws {
        var packet = try Message.query(name: try DomainName("www.example.com"), type: .a, edns: (1232, 0, false, []))
        packet += packet.suffix(11)
        packet[11] = 2
        #expect(rcode(table.respond(raw: packet)) == .formErr)
    }

    @Test func unknownOpcodesAreNotImplemented() {
        for opcode in [Opcode.iquery, .status, .notify, .update, .dso, Opcode(15)] {
            var packet = valid
            packet[2] = (packet[2] & 0x87) | opcode.headerBits
            let response = table.respond(raw: packet)
            #expect(rcode(response) == .notImp)
            #expect(Opcode(headerByte: response[2]) == opcode)
        }
    }

    @Test func notImplementedCarriesOurOPTWhenTheRequestHadOne() throws {
        var packet = try Message.query(name: try DomainName("www.example.com"), type: .a, edns: (4096, 0, false, []))
        packet[2] = (packet[2] & 0x87) | Opcode.status.headerBits
        let response = try Message(wire: table.respond(raw: packet))
        #expect(response.rcode == .notImp)
        #expect(response.edns?.udpSize == 1232)
        #expect(response.question.count == 1)
    }

    @Test func classOtherThanINIsRefusedAndTypeOPTIsFormErr() {
        var chaos = valid
        chaos[chaos.count - 1] = UInt8(RRClass.chaos.rawValue)
        #expect(rcode(table.respond(raw: chaos)) == .refused)
        var opt = valid
        opt[opt.count - 3] = UInt8(RRType.opt.rawValue)
        #expect(rcode(table.respond(raw: opt)) == .formErr)
    }

    @Test func randomBytesNeverCrashAndStayInBounds() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            var packet = [UInt8](repeating: 0, count: Int.random(in: 0...80, using: &generator))
            for i in packet.indices { packet[i] = UInt8.random(in: 0...255, using: &generator) }
            // Bias towards plausible headers so the parser goes deep.
            if packet.count > 12 { packet[2] &= 0x7F; packet[4] = 0; packet[5] = 1 }
            let response = table.respond(raw: packet)
            if !response.isEmpty {
                #expect(response.count >= 12)
                #expect(response.prefix(2) == packet.prefix(2))
                #expect(response[2] & 0x80 != 0)
            }
        }
    }
}
