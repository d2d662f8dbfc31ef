public import DNSWire

/// Builds query packets byte by byte, for tests that must send exactly what they want (malformed input,
/// fuzz seeds) rather than what dig would send.
public enum WireQuery {
    /// A standard query: header, one question, and an OPT record advertising `ednsUDPSize` when it is not nil.
    /// `flags` is the header's second 16-bit word (0x0100 = RD, opcode QUERY).
    public static func make(
        id: UInt16,
        name: String,
        type: RRType,
        flags: UInt16 = 0x0100,
        ednsUDPSize: UInt16? = 1232
    ) throws(WireError) -> [UInt8] {
        let question = try DomainName(name).wire
        var packet: [UInt8] = []
        append16(id, to: &packet)
        append16(flags, to: &packet)
        append16(1, to: &packet)  // QDCOUNT
        append16(0, to: &packet)  // ANCOUNT
        append16(0, to: &packet)  // NSCOUNT
        append16(ednsUDPSize == nil ? 0 : 1, to: &packet)  // ARCOUNT
        packet += question
        append16(type.rawValue, to: &packet)
        append16(RRClass.in.rawValue, to: &packet)
        if let ednsUDPSize {
            packet.append(0)  // root owner
            append16(RRType.opt.rawValue, to: &packet)
            append16(ednsUDPSize, to: &packet)
            packet += [0, 0, 0, 0]  // extended RCODE, version 0, flags
            append16(0, to: &packet)  // no options
        }
        return packet
    }

    /// The same bytes with a 2-byte length prefix, as sent over TCP.
    public static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    public static func append16(_ value: UInt16, to packet: inout [UInt8]) {
        packet.append(UInt8(value >> 8))
        packet.append(UInt8(value & 0xFF))
    }

    /// Reads a response's header fields (nil when shorter than a header).
    /// `rcode` is the header's 4 bits.
    public static func header(of response: [UInt8])
        -> (id: UInt16, qr: Bool, opcode: Opcode, rcode: RCode, qdcount: Int)?
    {
        guard response.count >= 12 else { return nil }
        let id = UInt16(response[0]) << 8 | UInt16(response[1])
        return (
            id, response[2] & 0x80 != 0, Opcode(headerByte: response[2]), RCode(header: response[3]),
            Int(response[4]) << 8 | Int(response[5])
        )
    }
}
