internal import CLDNS

/// Writes the messages of one zone transfer response (RFC 5936 §2.2; RFC 1995 for IXFR): the request's ID, QR
/// and AA, the question in the first message only, the records in order, names compressed by ldns, and with a
/// key every message signed (RFC 8945 §5.3.1: the first over the request's MAC, each next one over the
/// previous message's MAC and the timers). Off the query path: a transfer is rare and may cost ldns's time.
public struct TransferWriter {
    /// Uncompressed bytes of records per message: compressed, a message stays well below the 65,535 bytes TCP
    /// framing allows, and a secondary gets its first records early.
    public static let messageBudget = 16_384

    private let request: [UInt8]
    private let key: TSIGKey?
    private var priorMAC: [UInt8]?
    private var first = true

    /// `requestMAC`: the MAC of the verified request when `key` signs the response.
    public init(request: [UInt8], key: TSIGKey?, requestMAC: [UInt8]?) {
        self.request = request
        self.key = key
        self.priorMAC = requestMAC
    }

    /// Splits `records` into the runs that go in one message each (every run has at least one record).
    public static func runs(_ records: [ResourceRecord], budget: Int = messageBudget) -> [Range<Int>] {
        var runs: [Range<Int>] = []
        var start = 0
        var size = 0
        for (index, record) in records.enumerated() {
            let length = record.owner.wire.count + 10 + record.rdata.count
            if index > start && size + length > budget {
                runs.append(start..<index)
                start = index
                size = 0
            }
            size += length
        }
        if start < records.count { runs.append(start..<records.count) }
        return runs
    }

    /// The next message, holding `records`.
    public mutating func message(_ records: ArraySlice<ResourceRecord>) throws(WireError) -> [UInt8] {
        var wire = TSIG.header(of: request, rcode: .noError)
        guard !wire.isEmpty else { throw .ldns("the request is shorter than a DNS header") }
        let question = first ? TSIG.question(of: request) : []
        wire[5] = question.isEmpty ? 0 : 1
        wire[6] = UInt8(records.count >> 8)
        wire[7] = UInt8(records.count & 0xFF)
        wire += question
        for record in records {
            wire += record.owner.wire
            wire += [UInt8(record.type.rawValue >> 8), UInt8(record.type.rawValue & 0xFF), 0, 1]
            wire += [
                UInt8(record.ttl >> 24), UInt8(record.ttl >> 16 & 0xFF), UInt8(record.ttl >> 8 & 0xFF),
                UInt8(record.ttl & 0xFF),
            ]
            wire += [UInt8(record.rdata.count >> 8), UInt8(record.rdata.count & 0xFF)]
            wire += record.rdata
        }
        defer { first = false }
        return try finish(wire)
    }

    /// A response with no records and `rcode` (REFUSED, NOTAUTH, FORMERR…), signed when the request was.
    public mutating func bare(rcode: RCode) throws(WireError) -> [UInt8] {
        var wire = TSIG.header(of: request, rcode: rcode)
        guard !wire.isEmpty else { throw .ldns("the request is shorter than a DNS header") }
        wire += TSIG.question(of: request)
        return try finish(wire)
    }

    private mutating func finish(_ wire: [UInt8]) throws(WireError) -> [UInt8] {
        guard let key else {
            // Through ldns for its name compression.
            guard let packet = TSIG.packet(wire) else { throw .ldns("cannot read the message just written") }
            defer { ldns_pkt_free(packet) }
            return try TSIG.render(packet)
        }
        let signed = try TSIG.sign(wire, key: key, priorMAC: priorMAC ?? [], timersOnly: !first)
        priorMAC = signed.mac
        return signed.wire
    }
}

/// The parts of a zone transfer request the server acts on, read through ldns (off the query path).
public struct TransferRequest: Sendable, Equatable {
    public var id: UInt16
    public var opcode: Opcode
    public var zone: DomainName
    public var type: RRType
    public var qclass: RRClass
    /// IXFR: the serial of the SOA in the authority section (the version the client has).
    public var clientSerial: UInt32?

    /// The query type of a message with one question, read without ldns: the TCP path calls it on every query.
    public static func queryType(of wire: UnsafeRawBufferPointer) -> RRType? {
        guard wire.count > 12, wire[2] & 0x80 == 0, wire[4] == 0, wire[5] == 1 else { return nil }
        var at = 12
        while at < wire.count {
            let length = Int(wire[at])
            if length == 0 { break }
            guard length < 64 else { return nil }
            at += 1 + length
        }
        guard at + 3 <= wire.count else { return nil }
        return RRType(UInt16(wire[at + 1]) << 8 | UInt16(wire[at + 2]))
    }

    public init(wire: [UInt8]) throws(WireError) {
        guard let packet = TSIG.packet(wire) else { throw .ldns("cannot read the transfer request") }
        defer { ldns_pkt_free(packet) }
        id = ldns_pkt_id(packet)
        opcode = Opcode(UInt8(truncatingIfNeeded: ldns_pkt_get_opcode(packet).rawValue))
        guard ldns_pkt_qdcount(packet) == 1, let questions = ldns_pkt_question(packet),
            let question = ldns_rr_list_rr(questions, 0), let owner = ldns_rr_owner(question),
            let data = ldns_rdf_data(owner)
        else { throw .ldns("the transfer request has no question") }
        zone = try DomainName(wire: Array(UnsafeBufferPointer(start: data, count: ldns_rdf_size(owner))))
        type = RRType(UInt16(ldns_rr_get_type(question).rawValue))
        qclass = RRClass(UInt16(truncatingIfNeeded: ldns_rr_get_class(question).rawValue))
        clientSerial = nil
        if let authority = ldns_pkt_authority(packet) {
            for index in 0..<ldns_rr_list_rr_count(authority) {
                guard let rr = ldns_rr_list_rr(authority, index), ldns_rr_get_type(rr) == LDNS_RR_TYPE_SOA,
                    ldns_rr_rd_count(rr) >= 3, let serial = ldns_rr_rdf(rr, 2)
                else { continue }
                clientSerial = ldns_rdf2native_int32(serial)
            }
        }
    }
}
