import DNSWire

/// What the allocation-free parser learned of a query. Offsets are into the query bytes.
struct ParsedQuery {
    var id: UInt16 = 0
    /// Header bytes 2 and 3 as received.
    var flags0: UInt8 = 0
    var flags1: UInt8 = 0
    /// Length of the question name in wire form (including the root label).
    var qnameLength = 0
    /// `.reserved` (type 0) until the question is read.
    var qtype = RRType.reserved
    /// Class 0 (reserved, RFC 6895 §3.2) until the question is read.
    var qclass = RRClass(0)
    var hasOPT = false
    /// A TSIG record closes the additional section (RFC 8945): the server signs the response off this path.
    var hasTSIG = false
    var udpPayload: UInt16 = 512
    var ednsVersion: UInt8 = 0
    var dnssecOK = false
    /// The private option naming the requesting cluster (offset of its value, and length); start 0 = absent.
    var localOptionStart = 0
    var localOptionLength = 0
    /// The EDNS Client Subnet option (RFC 7871): offset of its value and length; start 0 = absent.
    var ecsStart = 0
    var ecsLength = 0
    /// The COOKIE option (RFC 7873): offset of its value and length; start 0 = absent. Judged only when cookies
    /// are on (`ServerCookies.judge`), which then sets the server cookie the response carries.
    var cookieStart = 0
    var cookieLength = 0
    var writesCookie = false
    var cookieTimestamp: UInt32 = 0
    /// The 8 hash bytes of the response's server cookie, in wire order.
    var cookieHash: UInt64 = 0
    /// The edns-tcp-keepalive timeout (RFC 7828) the response carries: the caller's, when the query asked for it
    /// over TCP; 0 = write no option.
    var keepaliveTimeout: UInt16 = 0

    var opcode: Opcode { Opcode(headerByte: flags0) }
    var questionLength: Int { qnameLength + 4 }
}

/// The parser's verdict. `formErr` with `question == false` means only the header is echoed.
enum ParseOutcome {
    case query(ParsedQuery)
    case drop
    case error(ParsedQuery, rcode: RCode, echoQuestion: Bool)
}

/// Reads a query without allocating: header, one question (no compression allowed there), then every
/// remaining record only to find the OPT record and to check the message ends where its counts say.
enum QueryParser {
    /// `tcpKeepalive`: the timeout to answer edns-tcp-keepalive with (0 over UDP, where it is never answered).
    static func parse(_ packet: UnsafeRawBufferPointer, localOption: UInt16 = 0, tcpKeepalive: UInt16 = 0)
        -> ParseOutcome
    {
        let count = packet.count
        // Too short to carry an ID we could answer to: nothing to send (as Knot and NSD do).
        guard count >= 12 else { return .drop }
        var query = ParsedQuery()
        query.id = UInt16(packet[0]) << 8 | UInt16(packet[1])
        query.flags0 = packet[2]
        query.flags1 = packet[3]
        // A response is never answered (no reflection loops).
        if packet[2] & 0x80 != 0 { return .drop }
        let qdcount = Int(packet[4]) << 8 | Int(packet[5])
        let ancount = Int(packet[6]) << 8 | Int(packet[7])
        let nscount = Int(packet[8]) << 8 | Int(packet[9])
        let arcount = Int(packet[10]) << 8 | Int(packet[11])
        // RFC 9619: a QUERY with more than one question is FORMERR; another opcode's use of the count is
        // unknown to us, so that is NOTIMP. Header only: which question would we echo?
        guard qdcount <= 1 else {
            return .error(query, rcode: query.opcode == .query ? .formErr : .notImp, echoQuestion: false)
        }
        let hasQuestion = qdcount == 1

        var offset = 12
        if hasQuestion {
            // The question name: plain labels only, at most 255 bytes.
            while true {
                guard offset < count else { return .error(query, rcode: .formErr, echoQuestion: false) }
                let length = Int(packet[offset])
                if length == 0 { offset += 1; break }
                guard length & 0xC0 == 0 else { return .error(query, rcode: .formErr, echoQuestion: false) }
                offset += 1 + length
                guard offset - 12 < 255 else { return .error(query, rcode: .formErr, echoQuestion: false) }
            }
            query.qnameLength = offset - 12
            guard query.qnameLength <= 255, offset + 4 <= count else {
                return .error(query, rcode: .formErr, echoQuestion: false)
            }
            query.qtype = RRType(UInt16(packet[offset]) << 8 | UInt16(packet[offset + 1]))
            query.qclass = RRClass(UInt16(packet[offset + 2]) << 8 | UInt16(packet[offset + 3]))
            offset += 4
        }

        // The remaining sections: skip each record, take the OPT from the additional section.
        let total = ancount + nscount + arcount
        var index = 0
        while index < total {
            let ownerStart = offset
            guard skipName(packet, &offset) else { return .error(query, rcode: .formErr, echoQuestion: hasQuestion) }
            guard offset + 10 <= count else { return .error(query, rcode: .formErr, echoQuestion: hasQuestion) }
            let type = RRType(UInt16(packet[offset]) << 8 | UInt16(packet[offset + 1]))
            let rdlength = Int(packet[offset + 8]) << 8 | Int(packet[offset + 9])
            let rdataStart = offset + 10
            guard rdataStart + rdlength <= count else {
                return .error(query, rcode: .formErr, echoQuestion: hasQuestion)
            }
            if type == .opt {
                // RFC 6891 §6.1.1: one OPT, in the additional section, owned by the root. A request whose OPT
                // records break that gets FORMERR without an OPT (as Knot answers): none of them is the one.
                guard index >= ancount + nscount, !query.hasOPT, offset == ownerStart + 1, packet[ownerStart] == 0
                else {
                    query.hasOPT = false
                    return .error(query, rcode: .formErr, echoQuestion: hasQuestion)
                }
                query.hasOPT = true
                query.udpPayload = max(512, UInt16(packet[offset + 2]) << 8 | UInt16(packet[offset + 3]))
                query.ednsVersion = packet[offset + 5]
                query.dnssecOK = packet[offset + 6] & 0x80 != 0
                guard readOptions(packet, from: rdataStart, to: rdataStart + rdlength, localOption: localOption,
                                  tcpKeepalive: tcpKeepalive, into: &query)
                else { return .error(query, rcode: .formErr, echoQuestion: hasQuestion) }
            }
            if type == .tsig && index == total - 1 { query.hasTSIG = true }
            offset = rdataStart + rdlength
            index += 1
        }
        // Bytes after the last record the counts announce.
        guard offset == count else { return .error(query, rcode: .formErr, echoQuestion: hasQuestion) }
        // A well-formed message, in this order as Knot checks it: an EDNS version we do not speak (RFC 6891
        // §6.1.3: BADVERS, extended RCODE 16: 0 in the header, 1 in the OPT), then an opcode other than QUERY
        // (NOTIMP, whatever its sections hold), then a QUERY without a question (FORMERR). Each carries our OPT
        // when the request had one (RFC 6891 §7).
        if query.hasOPT && query.ednsVersion > 0 { return .error(query, rcode: .badVers, echoQuestion: hasQuestion) }
        if query.opcode != .query { return .error(query, rcode: .notImp, echoQuestion: hasQuestion) }
        guard hasQuestion else { return .error(query, rcode: .formErr, echoQuestion: false) }
        return .query(query)
    }

    /// Skips a name that may end in a compression pointer (allowed outside the question).
    @inline(__always)
    static func skipName(_ packet: UnsafeRawBufferPointer, _ offset: inout Int) -> Bool {
        var length = 0
        while offset < packet.count {
            let byte = Int(packet[offset])
            if byte == 0 { offset += 1; return true }
            if byte & 0xC0 == 0xC0 {
                guard offset + 2 <= packet.count else { return false }
                offset += 2
                return true
            }
            guard byte & 0xC0 == 0 else { return false }
            offset += 1 + byte
            length += 1 + byte
            guard length < 255 else { return false }
        }
        return false
    }

    /// Walks the EDNS options, noting the four we act on. False when an option runs past the record or an ECS
    /// option is malformed (RFC 7871 §7.1.2: FORMERR).
    @inline(__always)
    static func readOptions(_ packet: UnsafeRawBufferPointer, from start: Int, to end: Int, localOption: UInt16,
                            tcpKeepalive: UInt16 = 0,
                            into query: inout ParsedQuery) -> Bool {
        var offset = start
        while offset < end {
            guard offset + 4 <= end else { return false }
            let code = UInt16(packet[offset]) << 8 | UInt16(packet[offset + 1])
            let length = Int(packet[offset + 2]) << 8 | Int(packet[offset + 3])
            let value = offset + 4
            guard value + length <= end else { return false }
            if code == 8 {
                guard length >= 4 else { return false }
                let family = UInt16(packet[value]) << 8 | UInt16(packet[value + 1])
                let sourcePrefix = Int(packet[value + 2])
                let maximum = family == 1 ? 32 : family == 2 ? 128 : -1
                guard maximum > 0, sourcePrefix <= maximum, length - 4 == (sourcePrefix + 7) / 8 else { return false }
                query.ecsStart = value
                query.ecsLength = length
            } else if code == 10 {
                // A second COOKIE option: the first one counts.
                if query.cookieStart == 0 {
                    query.cookieStart = value
                    query.cookieLength = length
                }
            } else if code == 11 {
                // RFC 7828 §3.2.1: a client sends it empty; as BIND and Knot do, a value sent anyway is ignored.
                query.keepaliveTimeout = tcpKeepalive
            } else if localOption != 0 && code == localOption {
                query.localOptionStart = value
                query.localOptionLength = length
            }
            offset = value + length
        }
        return offset == end
    }
}
