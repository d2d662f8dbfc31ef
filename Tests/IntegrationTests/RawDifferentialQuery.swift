import DNSTestSupport
import DNSWire

/// A query packet built byte by byte for the raw differential test: what dig cannot send (a header without a
/// question, any opcode, any header flag, QR set, two questions, records in a query's answer or authority
/// section, any EDNS version, flag or option).
struct RawQuery: Sendable, CustomStringConvertible {
    var label: String
    var packet: [UInt8]
    var tcp = false

    var description: String { label + (tcp ? " (TCP)" : "") + " " + packet.map { hex($0) }.joined() }

    private func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    var opcode: Opcode { Opcode(headerByte: packet[2]) }
    var qdcount: Int { Int(packet[4]) << 8 | Int(packet[5]) }
}

/// Builds the raw query set (deterministic: the same packets on every run).
enum RawQuerySet {
    static let id: UInt16 = 0x5EED
    /// www.diff.test A IN.
    static let question: [UInt8] =
        [3] + Array("www".utf8) + [4] + Array("diff".utf8) + [4] + Array("test".utf8) + [0, 0, 1, 0, 1]
    /// big.diff.test TXT IN: an answer far above 512 bytes.
    static let bigTXT: [UInt8] =
        [3] + Array("big".utf8) + [4] + Array("diff".utf8) + [4] + Array("test".utf8) + [0, 0, 16, 0, 1]
    /// An A record owned by the question name (a pointer to offset 12).
    static let record: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 99]

    static func header(
        opcode: Int = 0,
        flags: UInt16 = 0x0100,
        qd: UInt16 = 1,
        an: UInt16 = 0,
        ns: UInt16 = 0,
        ar: UInt16 = 0
    ) -> [UInt8] {
        var bytes: [UInt8] = []
        let word = UInt16(opcode << 11) | flags
        for value in [id, word, qd, an, ns, ar] { WireQuery.append16(value, to: &bytes) }
        return bytes
    }

    /// An OPT record: UDP size, version, the 16 flag bits (DO is 0x8000), and raw option bytes.
    static func opt(size: UInt16 = 1232, version: UInt8 = 0, flags: UInt16 = 0, options: [UInt8] = []) -> [UInt8] {
        var bytes: [UInt8] = [0]
        for value in [41, size] { WireQuery.append16(value, to: &bytes) }
        bytes += [0, version]
        WireQuery.append16(flags, to: &bytes)
        WireQuery.append16(UInt16(options.count), to: &bytes)
        return bytes + options
    }

    static func option(_ code: UInt16, _ data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        WireQuery.append16(code, to: &bytes)
        WireQuery.append16(UInt16(data.count), to: &bytes)
        return bytes + data
    }

    static func all() -> [RawQuery] {
        var queries: [RawQuery] = []
        // Every opcode: without a question, with one, with one and an OPT.
        for opcode in 0...15 {
            queries.append(RawQuery(label: "opcode \(opcode), header only", packet: header(opcode: opcode, qd: 0)))
            queries.append(RawQuery(label: "opcode \(opcode), one question", packet: header(opcode: opcode) + question))
            queries.append(
                RawQuery(
                    label: "opcode \(opcode), question and OPT",
                    packet: header(opcode: opcode, ar: 1) + question + opt()
                )
            )
        }
        queries.append(RawQuery(label: "opcode 15, header only", packet: header(opcode: 15, qd: 0), tcp: true))
        queries.append(
            RawQuery(label: "opcode 15, header and OPT", packet: header(opcode: 15, qd: 0, ar: 1) + opt())
        )
        queries.append(
            RawQuery(label: "opcode 1, EDNS version 1", packet: header(opcode: 1, ar: 1) + question + opt(version: 1))
        )
        // Each header flag set in a query (RD cleared), with and without EDNS; QR set (a response: no answer).
        let flags: [(String, UInt16)] = [
            ("AA", 0x0500), ("TC", 0x0300), ("RD clear", 0x0000), ("RA", 0x0180), ("Z", 0x0140),
            ("AD", 0x0120), ("CD", 0x0110), ("all but QR", 0x07F0),
        ]
        for (name, bits) in flags {
            queries.append(RawQuery(label: "flag \(name)", packet: header(flags: bits) + question))
            queries.append(RawQuery(label: "flag \(name), OPT", packet: header(flags: bits, ar: 1) + question + opt()))
        }
        queries.append(RawQuery(label: "QR set", packet: header(flags: 0x8100) + question))
        queries.append(RawQuery(label: "QR set, header only", packet: header(flags: 0x8100, qd: 0)))
        queries.append(RawQuery(label: "QR set, opcode 15", packet: header(opcode: 15, flags: 0x8100) + question))
        // EDNS versions and flags.
        for version: UInt8 in [0, 1, 255] {
            queries.append(
                RawQuery(label: "EDNS version \(version)", packet: header(ar: 1) + question + opt(version: version))
            )
        }
        queries.append(
            RawQuery(label: "EDNS version 1", packet: header(ar: 1) + question + opt(version: 1), tcp: true)
        )
        queries.append(
            RawQuery(label: "EDNS version 1, no question", packet: header(qd: 0, ar: 1) + opt(version: 1))
        )
        for ednsFlags: UInt16 in [0x8000, 0x4000, 0x0001, 0x7FFF, 0xFFFF] {
            let label = "EDNS flags 0x" + String(ednsFlags, radix: 16)
            queries.append(RawQuery(label: label, packet: header(ar: 1) + question + opt(flags: ednsFlags)))
        }
        queries.append(
            RawQuery(
                label: "EDNS version 1 with an unknown flag",
                packet: header(ar: 1) + question + opt(version: 1, flags: 0x4000)
            )
        )
        // Unknown and unassigned EDNS options (NSID, cookies and keepalive have tests of their own).
        let options: [(String, [UInt8])] = [
            ("option 65001 with data", option(65001, [0xAB, 0xCD])),
            ("option 65001 empty", option(65001, [])),
            ("option 0", option(0, [1])),
            ("option 65535", option(65535, [1, 2, 3])),
            ("option 20 (unassigned)", option(20, [])),
            ("three unknown options", option(65001, [1]) + option(65002, []) + option(65003, [1, 2])),
        ]
        for (name, bytes) in options {
            queries.append(RawQuery(label: name, packet: header(ar: 1) + question + opt(options: bytes)))
        }
        // Size: without EDNS the 512-byte limit (TC), with EDNS the advertised size, TCP the whole answer.
        queries.append(RawQuery(label: "big TXT without EDNS", packet: header() + bigTXT))
        queries.append(RawQuery(label: "big TXT, EDNS 512", packet: header(ar: 1) + bigTXT + opt(size: 512)))
        queries.append(RawQuery(label: "big TXT, EDNS 100", packet: header(ar: 1) + bigTXT + opt(size: 100)))
        queries.append(RawQuery(label: "big TXT, EDNS 4096", packet: header(ar: 1) + bigTXT + opt(size: 4096)))
        queries.append(RawQuery(label: "big TXT without EDNS", packet: header() + bigTXT, tcp: true))
        queries.append(RawQuery(label: "big TXT, TC set", packet: header(flags: 0x0300) + bigTXT))
        // Question counts and records in a query's answer and authority sections.
        queries.append(RawQuery(label: "QDCOUNT 0", packet: header(qd: 0)))
        queries.append(RawQuery(label: "QDCOUNT 0", packet: header(qd: 0), tcp: true))
        queries.append(RawQuery(label: "QDCOUNT 0, OPT", packet: header(qd: 0, ar: 1) + opt()))
        queries.append(RawQuery(label: "QDCOUNT 2", packet: header(qd: 2) + question + question))
        queries.append(RawQuery(label: "QDCOUNT 2", packet: header(qd: 2) + question + question, tcp: true))
        queries.append(
            RawQuery(label: "QDCOUNT 2, opcode 15", packet: header(opcode: 15, qd: 2) + question + question)
        )
        queries.append(RawQuery(label: "ANCOUNT 1", packet: header(an: 1) + question + record))
        queries.append(RawQuery(label: "NSCOUNT 1", packet: header(ns: 1) + question + record))
        queries.append(
            RawQuery(label: "ANCOUNT 1 and NSCOUNT 1, OPT", packet: header(an: 1, ns: 1, ar: 1) + question + record + record + opt())
        )
        queries.append(RawQuery(label: "ANCOUNT 1, opcode 15", packet: header(opcode: 15, an: 1) + question + record))
        queries.append(RawQuery(label: "ANCOUNT 1, record missing", packet: header(an: 1) + question))
        // OPT where it may not be: twice, or in the answer section.
        queries.append(RawQuery(label: "two OPT records", packet: header(ar: 2) + question + opt() + opt()))
        queries.append(RawQuery(label: "OPT in the answer section", packet: header(an: 1) + question + opt()))
        return queries
    }
}

/// What the raw differential test compares of a response: every header bit and count, the sections as ldns
/// prints them, and the OPT record (version, extended RCODE, all 16 flag bits, UDP size, options).
struct RawResponse: Equatable, Sendable, CustomStringConvertible {
    var opcode: Int
    var rcode: Int
    /// Header flags by name: qr aa tc rd ra z ad cd.
    var flags: [String]
    var counts: [Int]
    var question: [String]
    var answer: [String]
    var authority: [String]
    var additional: [String]
    var edns: String?

    init(wire: [UInt8]) {
        opcode = Int(wire[2] >> 3) & 0x0F
        rcode = Int(wire[3] & 0x0F)
        let bits: [(String, Int, UInt8)] = [
            ("qr", 2, 0x80), ("aa", 2, 0x04), ("tc", 2, 0x02), ("rd", 2, 0x01), ("ra", 3, 0x80), ("z", 3, 0x40),
            ("ad", 3, 0x20), ("cd", 3, 0x10),
        ]
        flags = bits.filter { wire[$0.1] & $0.2 != 0 }.map(\.0)
        counts = (0..<4).map { Int(wire[4 + 2 * $0]) << 8 | Int(wire[5 + 2 * $0]) }
        if let message = try? Message(wire: wire) {
            question = message.question
            answer = message.answer.sorted()
            authority = message.authority.sorted()
            additional = message.additional.sorted()
        } else {
            question = ["(ldns cannot read this response)"]
            answer = []
            authority = []
            additional = []
        }
        edns = Self.opt(in: wire)
    }

    /// The OPT record found by walking the message: "version V ext E flags 0xF udp U options HEX".
    static func opt(in wire: [UInt8]) -> String? {
        func skipName(_ offset: inout Int) -> Bool {
            while offset < wire.count {
                let byte = wire[offset]
                if byte == 0 { offset += 1; return true }
                if byte & 0xC0 == 0xC0 { offset += 2; return offset <= wire.count }
                offset += 1 + Int(byte)
            }
            return false
        }
        let counts = (0..<4).map { Int(wire[4 + 2 * $0]) << 8 | Int(wire[5 + 2 * $0]) }
        var offset = 12
        for _ in 0..<counts[0] {
            guard skipName(&offset) else { return nil }
            offset += 4
        }
        for _ in 0..<(counts[1] + counts[2] + counts[3]) {
            guard skipName(&offset), offset + 10 <= wire.count else { return nil }
            let type = Int(wire[offset]) << 8 | Int(wire[offset + 1])
            let length = Int(wire[offset + 8]) << 8 | Int(wire[offset + 9])
            guard offset + 10 + length <= wire.count else { return nil }
            if type == 41 {
                let size = Int(wire[offset + 2]) << 8 | Int(wire[offset + 3])
                let flags = Int(wire[offset + 6]) << 8 | Int(wire[offset + 7])
                let options = wire[(offset + 10)..<(offset + 10 + length)].map { String($0, radix: 16) }
                return "version \(wire[offset + 5]) ext \(wire[offset + 4]) flags 0x\(String(flags, radix: 16)) "
                    + "udp \(size) options [\(options.joined(separator: " "))]"
            }
            offset += 10 + length
        }
        return nil
    }

    /// The names of what differs between two responses (nil stands for no response).
    static func aspects(_ reference: RawResponse?, _ subject: RawResponse?) -> Set<String> {
        guard let reference, let subject else { return (reference == nil) == (subject == nil) ? [] : ["noResponse"] }
        var aspects: Set<String> = []
        if reference.opcode != subject.opcode { aspects.insert("opcode") }
        if reference.rcode != subject.rcode { aspects.insert("rcode") }
        aspects.formUnion(Set(reference.flags).symmetricDifference(subject.flags))
        if reference.counts != subject.counts { aspects.insert("counts") }
        if reference.question != subject.question { aspects.insert("question") }
        if reference.answer != subject.answer { aspects.insert("answer") }
        if reference.authority != subject.authority { aspects.insert("authority") }
        if reference.additional != subject.additional { aspects.insert("additional") }
        if reference.edns != subject.edns { aspects.insert("edns") }
        return aspects
    }

    var description: String {
        """
        opcode \(opcode) rcode \(rcode) flags [\(flags.joined(separator: " "))] counts \(counts)
        question \(question) answer \(answer.count) authority \(authority.count) additional \(additional.count)
        \(edns.map { "edns " + $0 } ?? "no edns")
        """
    }
}

/// A difference from the reference server in the raw test that is accepted, with its reason: `allowed` names
/// the aspects (`RawResponse.aspects`) that may differ for the queries `matches` picks.
struct RawDeliberateDifference: Sendable {
    var id: String
    var reason: String
    var matches: @Sendable (RawQuery) -> Bool
    var allowed: Set<String>
}
