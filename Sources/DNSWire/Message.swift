internal import CLDNS

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A DNS message read through ldns into plain values: what the CLI prints and what tests check.
/// Never used on the query path.
public struct Message: Sendable, Equatable {
    public var id: UInt16
    /// The header's RCODE (its 4 bits; `fullRcode` adds the OPT's extended bits).
    public var rcode: RCode
    public var opcode: Opcode
    public var qr: Bool
    public var aa: Bool
    public var tc: Bool
    public var rd: Bool
    public var ra: Bool
    public var cd: Bool
    /// Question entries in presentation form (`name. IN A`).
    public var question: [String]
    /// Records in presentation form, one per line as ldns prints them.
    public var answer: [String]
    public var authority: [String]
    public var additional: [String]
    /// The OPT record, when present.
    public var edns: EDNS?

    public struct EDNS: Sendable, Equatable {
        public var udpSize: Int
        public var version: Int
        public var extendedRcode: Int
        public var dnssecOK: Bool
        public var optionsData: [UInt8]
    }

    /// The full RCODE (header RCODE plus the OPT's extended bits).
    public var fullRcode: RCode {
        RCode(header: rcode.header, extended: UInt8(truncatingIfNeeded: edns?.extendedRcode ?? 0))
    }

    /// Reads a message in wire form.
    public init(wire: [UInt8]) throws(WireError) {
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = wire.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK, let packet else {
            throw .ldns("cannot read message: " + String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { ldns_pkt_free(packet) }
        id = ldns_pkt_id(packet)
        rcode = RCode(header: UInt8(truncatingIfNeeded: ldns_pkt_get_rcode(packet).rawValue))
        opcode = Opcode(UInt8(truncatingIfNeeded: ldns_pkt_get_opcode(packet).rawValue))
        qr = ldns_pkt_qr(packet) != 0
        aa = ldns_pkt_aa(packet) != 0
        tc = ldns_pkt_tc(packet) != 0
        rd = ldns_pkt_rd(packet) != 0
        ra = ldns_pkt_ra(packet) != 0
        cd = ldns_pkt_cd(packet) != 0
        question = Self.strings(ldns_pkt_question(packet))
        answer = Self.strings(ldns_pkt_answer(packet))
        authority = Self.strings(ldns_pkt_authority(packet))
        additional = Self.strings(ldns_pkt_additional(packet))
        if ldns_pkt_edns(packet) != 0 || wire.count > 11 && Self.hasOPT(wire) {
            var data: [UInt8] = []
            if let rdf = ldns_pkt_edns_data(packet), let bytes = ldns_rdf_data(rdf) {
                data = Array(UnsafeBufferPointer(start: bytes, count: ldns_rdf_size(rdf)))
            }
            edns = EDNS(udpSize: Int(ldns_pkt_edns_udp_size(packet)), version: Int(ldns_pkt_edns_version(packet)),
                        extendedRcode: Int(ldns_pkt_edns_extended_rcode(packet)),
                        dnssecOK: ldns_pkt_edns_do(packet) != 0, optionsData: data)
        } else {
            edns = nil
        }
    }

    /// ldns reports EDNS only when something in the OPT differs from its defaults; look at the counts instead.
    private static func hasOPT(_ wire: [UInt8]) -> Bool {
        let arcount = Int(wire[10]) << 8 | Int(wire[11])
        return arcount > 0 && wire.count >= 11 && wire[(wire.count - 11)...].starts(with: [0, 0, 41])
    }

    private static func strings(_ list: UnsafeMutablePointer<ldns_rr_list>?) -> [String] {
        guard let list else { return [] }
        var result: [String] = []
        for index in 0..<ldns_rr_list_rr_count(list) {
            guard let rr = ldns_rr_list_rr(list, index), let text = ldns_rr2str(rr) else { continue }
            defer { free(text) }
            result.append(String(cString: text).trimmingTrailingNewlines())
        }
        return result
    }

    /// Builds a query in wire form through ldns.
    public static func query(
        name: DomainName, type: RRType, id: UInt16 = 0x1234, recursionDesired: Bool = false,
        edns: (udpSize: Int, version: Int, dnssecOK: Bool, options: [UInt8])? = nil
    ) throws(WireError) -> [UInt8] {
        let owner = name.wire.withUnsafeBufferPointer {
            ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, $0.count, $0.baseAddress)
        }
        guard let owner else { throw .ldns("cannot allocate a name") }
        guard let packet = ldns_pkt_query_new(owner, ldns_rr_type(UInt32(type.rawValue)), LDNS_RR_CLASS_IN, 0) else {
            ldns_rdf_deep_free(owner)
            throw .ldns("cannot allocate a query")
        }
        defer { ldns_pkt_free(packet) }
        ldns_pkt_set_id(packet, id)
        ldns_pkt_set_rd(packet, recursionDesired ? 1 : 0)
        if let edns {
            ldns_pkt_set_edns_udp_size(packet, UInt16(edns.udpSize))
            ldns_pkt_set_edns_version(packet, UInt8(edns.version))
            ldns_pkt_set_edns_do(packet, edns.dnssecOK ? 1 : 0)
            if !edns.options.isEmpty {
                let data = edns.options.withUnsafeBufferPointer {
                    ldns_rdf_new_frm_data(LDNS_RDF_TYPE_UNKNOWN, $0.count, $0.baseAddress)
                }
                ldns_pkt_set_edns_data(packet, data)
            }
        }
        var wire: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = ldns_pkt2wire(&wire, packet, &size)
        guard status == LDNS_STATUS_OK, let wire else {
            throw .ldns("cannot render the query: " + String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { free(wire) }
        var bytes = Array(UnsafeBufferPointer(start: wire, count: size))
        // ldns adds the OPT only when a field differs from its defaults: make sure it is there when asked for.
        if edns != nil && (Int(bytes[10]) << 8 | Int(bytes[11])) == 0, let edns {
            bytes += [0, 0, 41, UInt8(edns.udpSize >> 8), UInt8(edns.udpSize & 0xFF), 0, UInt8(edns.version),
                      edns.dnssecOK ? 0x80 : 0, 0, UInt8(edns.options.count >> 8), UInt8(edns.options.count & 0xFF)]
            bytes += edns.options
            bytes[11] = 1
        }
        return bytes
    }
}

extension String {
    func trimmingTrailingNewlines() -> String {
        var copy = self
        while copy.last == "\n" { copy.removeLast() }
        return copy
    }
}
