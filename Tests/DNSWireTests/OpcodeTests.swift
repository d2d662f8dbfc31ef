import DNSWire
import Testing

@Suite struct OpcodeTests {
    @Test(arguments: [
        (Opcode.query, UInt8(0), "QUERY"), (.iquery, 1, "IQUERY"), (.status, 2, "STATUS"), (.notify, 4, "NOTIFY"),
        (.update, 5, "UPDATE"), (.dso, 6, "RESERVED6"), (Opcode(3), 3, "RESERVED3"), (Opcode(15), 15, "RESERVED15"),
    ])
    func printsAsDigDoes(opcode: Opcode, number: UInt8, text: String) {
        #expect(opcode.rawValue == number)
        #expect(opcode.description == text)
    }

    /// Every one of the 16 opcodes reads back from the name it prints as.
    @Test func everyOpcodeReadsBackFromItsName() {
        for value in UInt8(0)...15 {
            let opcode = Opcode(value)
            #expect(Opcode(mnemonic: opcode.description) == opcode)
            #expect(Opcode(mnemonic: opcode.description.lowercased()) == opcode)
        }
        #expect(Opcode(mnemonic: "DSO") == .dso)
    }

    @Test(arguments: ["", "RESERVED", "RESERVED16", "RESERVED-1", "RESERVED015", "QUERIES", "4"])
    func refusesOtherText(text: String) {
        #expect(Opcode(mnemonic: text) == nil)
    }

    /// The third header byte carries QR, the opcode, AA, TC and RD: 0x24 is a NOTIFY request, 0xA4 its response
    /// with AA set.
    @Test func readsAndWritesTheHeaderBits() {
        #expect(Opcode(headerByte: 0x20) == .notify)
        #expect(Opcode(headerByte: 0xA4) == .notify)
        #expect(Opcode(headerByte: 0x01) == .query)
        #expect(Opcode(headerByte: 0x7F) == Opcode(15))
        #expect(Opcode.notify.headerBits == 0x20)
        #expect(Opcode(15).headerBits == 0x78)
        for value in UInt8(0)...15 { #expect(Opcode(headerByte: Opcode(value).headerBits | 0x87) == Opcode(value)) }
    }

    @Test func messageReadsTheOpcode() throws {
        var wire = try Message.query(name: try DomainName("example.com"), type: .soa, edns: nil)
        #expect(try Message(wire: wire).opcode == .query)
        wire[2] = (wire[2] & 0x87) | Opcode.notify.headerBits
        #expect(try Message(wire: wire).opcode == .notify)
    }
}

@Suite struct RRClassTests {
    @Test(arguments: [
        (RRClass.in, UInt16(1), "IN"), (.chaos, 3, "CH"), (.hesiod, 4, "HS"), (.none, 254, "NONE"), (.any, 255, "ANY"),
        (RRClass(0), 0, "CLASS0"), (RRClass(2), 2, "CLASS2"), (RRClass(65280), 65280, "CLASS65280"),
    ])
    func printsAsDigDoes(rrClass: RRClass, number: UInt16, text: String) {
        #expect(rrClass.rawValue == number)
        #expect(rrClass.description == text)
    }

    @Test(arguments: [UInt16(0), 1, 2, 3, 4, 253, 254, 255, 256, 65535])
    func readsBackFromItsName(value: UInt16) {
        let rrClass = RRClass(value)
        #expect(RRClass(mnemonic: rrClass.description) == rrClass)
        #expect(RRClass(mnemonic: rrClass.description.lowercased()) == rrClass)
    }

    /// RFC 3597 §5: `CLASS` and a decimal number names any class, the named ones too.
    @Test func readsTheGenericForm() {
        #expect(RRClass(mnemonic: "CLASS1") == .in)
        #expect(RRClass(mnemonic: "class255") == .any)
    }

    @Test(arguments: ["", "CLASS", "CLASS65536", "CLASS-1", "CLASS123456", "INTERNET", "1", "CHAOS"])
    func refusesOtherText(text: String) {
        #expect(RRClass(mnemonic: text) == nil)
    }
}
