import DNSTestSupport
import DNSWire

/// A query packet broken in one specific way, and what an authoritative server must do with it.
struct MalformedQuery: Sendable, CustomStringConvertible {
    enum Expected: Sendable, Equatable {
        /// A response with this RCODE, the query's ID and QR set.
        case rcode(RCode)
        /// Nothing at all (the header is too short to even address a reply).
        case noResponse
    }

    static let formErr = Expected.rcode(.formErr)
    static let notImp = Expected.rcode(.notImp)

    var label: String
    var packet: [UInt8]
    var expected: Expected

    var description: String { label }

    static let id: UInt16 = 0xBEEF

    /// Header with the given counts; flags 0x0100 (QUERY, RD) unless told otherwise.
    static func header(qdcount: UInt16, arcount: UInt16 = 0, flags: UInt16 = 0x0100) -> [UInt8] {
        var bytes: [UInt8] = []
        for value in [id, flags, qdcount, 0, 0, arcount] { WireQuery.append16(value, to: &bytes) }
        return bytes
    }

    /// QTYPE A, QCLASS IN.
    static let typeAClassIN: [UInt8] = [0, 1, 0, 1]
    static let wwwDiffTest: [UInt8] =
        [3] + Array("www".utf8) + [4] + Array("diff".utf8) + [4] + Array("test".utf8) + [0]

    static let all: [MalformedQuery] = [
        MalformedQuery(
            label: "header shorter than 12 bytes",
            packet: Array(header(qdcount: 1).prefix(7)),
            expected: .noResponse
        ),
        MalformedQuery(label: "qdcount 0", packet: header(qdcount: 0), expected: formErr),
        MalformedQuery(
            label: "qdcount 2",
            packet: header(qdcount: 2) + wwwDiffTest + typeAClassIN + wwwDiffTest + typeAClassIN,
            expected: formErr
        ),
        MalformedQuery(
            label: "compression pointer loop in the question (points at itself)",
            packet: header(qdcount: 1) + [0xC0, 12] + typeAClassIN,
            expected: formErr
        ),
        MalformedQuery(
            label: "compression pointers pointing at each other",
            packet: header(qdcount: 1) + [0xC0, 14, 0xC0, 12] + typeAClassIN,
            expected: formErr
        ),
        MalformedQuery(
            label: "label of 64 bytes",
            packet: header(qdcount: 1) + [64] + Array(repeating: UInt8(ascii: "a"), count: 64) + [0] + typeAClassIN,
            expected: formErr
        ),
        MalformedQuery(
            label: "name of 321 bytes",
            packet: header(qdcount: 1)
                + Array(repeating: [63] + Array(repeating: UInt8(ascii: "b"), count: 63), count: 5).flatMap { $0 }
                + [0] + typeAClassIN,
            expected: formErr
        ),
        MalformedQuery(
            label: "question cut off inside a label",
            packet: header(qdcount: 1) + [3] + Array("ww".utf8),
            expected: formErr
        ),
        MalformedQuery(
            label: "question without QTYPE/QCLASS",
            packet: header(qdcount: 1) + wwwDiffTest,
            expected: formErr
        ),
        MalformedQuery(
            label: "garbage after the question",
            packet: header(qdcount: 1) + wwwDiffTest + typeAClassIN + [0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x01, 0x02],
            expected: formErr
        ),
        MalformedQuery(label: "opcode 15, header only", packet: header(qdcount: 0, flags: 0x7900), expected: notImp),
        MalformedQuery(
            label: "opcode 15, two questions",
            packet: header(qdcount: 2, flags: 0x7900) + wwwDiffTest + typeAClassIN + wwwDiffTest + typeAClassIN,
            expected: notImp
        ),
        MalformedQuery(
            label: "opcode 5 (UPDATE)",
            packet: header(qdcount: 1, flags: 0x2800) + wwwDiffTest + typeAClassIN,
            expected: notImp
        ),
    ]
}
