import DNSWire
@testable import MCDNSCommands
import Testing

/// `mcdns query` prints a response's header line as dig does, the opcode by dig's name.
@Suite struct QueryRenderTests {
    static func headerLine(opcode: Opcode, rcode: RCode = .noError) throws -> String? {
        var wire = try Message.query(name: try DomainName("example.com"), type: .soa, id: 7)
        wire[2] = 0x80 | opcode.headerBits | 0x04
        wire[3] = rcode.header
        let rendered = QueryCommand.render(
            try Message(wire: wire), name: "example.com", type: .soa, server: "127.0.0.1", port: 53, tcp: false,
            extras: nil, elapsed: .milliseconds(1), size: wire.count
        )
        return rendered.split(separator: "\n").first { $0.hasPrefix(";; ->>HEADER<<-") }.map(String.init)
    }

    /// dig 9.18 prints these three as `opcode: NOTIFY`, `opcode: RESERVED15` and `opcode: QUERY`
    /// (`dig +qr +opcode=15`).
    @Test(arguments: [
        (Opcode.notify, ";; ->>HEADER<<- opcode: NOTIFY, status: NOERROR, id: 7"),
        (Opcode(15), ";; ->>HEADER<<- opcode: RESERVED15, status: NOERROR, id: 7"),
        (Opcode.query, ";; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 7"),
    ])
    func namesTheOpcodeAsDigDoes(opcode: Opcode, line: String) throws {
        #expect(try Self.headerLine(opcode: opcode) == line)
    }

    @Test func namesTheStatus() throws {
        #expect(try Self.headerLine(opcode: .update, rcode: .notAuth)
            == ";; ->>HEADER<<- opcode: UPDATE, status: NOTAUTH, id: 7")
    }
}
