public import DNSWire

/// How a query reached us: the answer size limits depend on it.
public enum Transport: Sendable {
    case udp
    case tcp
}

/// Settings that shape every answer of a table.
public struct ServingOptions: Sendable, Equatable {
    /// The largest UDP response we send to an EDNS client (default 1232, the DNS flag day 2020 value).
    public var maxUDPPayload: Int

    public init(maxUDPPayload: Int = 1232) {
        self.maxUDPPayload = max(512, min(maxUDPPayload, 65535))
    }
}

/// An immutable, wire-ready answer table: every answer is compiled to bytes when the table is built.
/// `respond` is the hot path: bytes in, bytes out, no allocation, no lock.
public final class AnswerTable: Sendable {
    public static let shardCount = 256

    /// The snapshot generation; the SOA serial of zones with live records.
    public let serial: UInt32
    public let options: ServingOptions
    /// The zones served, deepest first.
    public let zones: [ZoneContent]
    let shards: [Shard]
    /// Answers shared by many names: per zone NXDOMAIN and NODATA, per cut the referral.
    let shared: TemplateStore
    let nxTemplates: [Int32]

    init(serial: UInt32, options: ServingOptions, zones: [ZoneContent], shards: [Shard], shared: TemplateStore,
         nxTemplates: [Int32]) {
        self.serial = serial
        self.options = options
        self.zones = zones
        self.shards = shards
        self.shared = shared
        self.nxTemplates = nxTemplates
    }

    /// A table that serves nothing (every query is REFUSED).
    public convenience init(serial: UInt32, options: ServingOptions = ServingOptions()) {
        self.init(serial: serial, options: options, zones: [], shards: Array(repeating: .empty, count: Self.shardCount),
                  shared: TemplateStore(), nxTemplates: [])
    }

    /// Compiles zones into a table. Throws without side effects, so a failed compile never replaces a good table.
    public static func compile(zones: [Zone], serial: UInt32, options: ServingOptions = ServingOptions()) throws(CompileError)
        -> AnswerTable
    {
        var contents: [ZoneContent] = []
        for zone in zones { contents.append(try ZoneContent(zone: zone)) }
        return try TableBuilder(zones: contents, serial: serial, options: options).build()
    }

    /// Compiles prepared zone contents (zones with live records come this way).
    public static func compile(contents: [ZoneContent], serial: UInt32, options: ServingOptions = ServingOptions())
        throws(CompileError) -> AnswerTable
    {
        try TableBuilder(zones: contents, serial: serial, options: options).build()
    }

    /// The number of names in the table.
    public var nameCount: Int { shards.reduce(0) { $0 + $1.nodes.count } }

    /// Resolves in record form (for `explain`, tests and tools; the query path uses the compiled bytes).
    public func resolve(_ name: DomainName, _ type: RRType) -> ResolvedAnswer {
        guard let zone = zones.first(where: { name.isSubdomain(of: $0.origin) }) else {
            return ResolvedAnswer(resolution: .refused, rcode: 5, authoritative: false)
        }
        return ZoneResolver(zone: zone, serial: serial).resolve(name, type)
    }

    // MARK: - The query path

    /// Answers one query. Writes the response into `output` and returns its length; 0 means "send nothing".
    /// `output` should hold 65535 bytes for TCP and at least `options.maxUDPPayload` for UDP.
    public func respond(
        to query: UnsafeRawBufferPointer,
        transport: Transport,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        switch QueryParser.parse(query) {
        case .drop:
            return 0
        case .error(let parsed, let rcode, let echoQuestion):
            return writeBare(parsed, query, output, transport, rcode: rcode, echoQuestion: echoQuestion)
        case .query(let parsed):
            if parsed.hasOPT && parsed.ednsVersion > 0 {
                // RFC 6891 §6.1.3: BADVERS is extended RCODE 16: 0 in the header, 1 in the OPT.
                return writeBare(parsed, query, output, transport, rcode: 16, echoQuestion: true)
            }
            switch parsed.qtype {
            case 41: return writeBare(parsed, query, output, transport, rcode: 1, echoQuestion: true)
            case 251, 252: return writeBare(parsed, query, output, transport, rcode: 5, echoQuestion: true)
            default: break
            }
            guard parsed.qclass == 1 else {
                return writeBare(parsed, query, output, transport, rcode: 5, echoQuestion: true)
            }
            return answer(parsed, query, output, transport)
        }
    }

    @inline(__always)
    private func answer(_ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer,
                        _ transport: Transport) -> Int {
        let nameEnd = 12 + parsed.qnameLength
        // Exact match: the common path, one probe.
        let hash = NameHash.hash(query, from: 12, to: nameEnd)
        let shard = shards[Int(hash >> 24) & (Self.shardCount - 1)]
        let node = shard.find(hash: hash, prefix: nil, packet: query, start: 12, end: nameEnd)
        if node >= 0 {
            return write(template: shard.template(node: node, qtype: parsed.qtype), shard: shard, parsed, query, output,
                         transport)
        }
        // The closest encloser: strip labels until a name exists.
        var start = 12 + 1 + Int(query[12])
        while start < nameEnd - 1 {
            let suffixHash = NameHash.hash(query, from: start, to: nameEnd)
            let suffixShard = shards[Int(suffixHash >> 24) & (Self.shardCount - 1)]
            let encloser = suffixShard.find(hash: suffixHash, prefix: nil, packet: query, start: start, end: nameEnd)
            if encloser >= 0 {
                let entry = suffixShard.nodes[Int(encloser)]
                if entry.delegated {
                    return write(template: entry.fallback, shard: suffixShard, parsed, query, output, transport)
                }
                if entry.hasWildcardChild {
                    let wildHash = NameHash.hash(query, from: start, to: nameEnd, seed: NameHash.wildcardSeed)
                    let wildShard = shards[Int(wildHash >> 24) & (Self.shardCount - 1)]
                    let wild = wildShard.find(hash: wildHash, prefix: (1, UInt8(ascii: "*")), packet: query,
                                              start: start, end: nameEnd)
                    if wild >= 0 {
                        return write(template: wildShard.template(node: wild, qtype: parsed.qtype), shard: wildShard,
                                     parsed, query, output, transport)
                    }
                }
                return write(template: nxTemplates[Int(entry.zone)], shard: suffixShard, parsed, query, output,
                             transport)
            }
            start += 1 + Int(query[start])
        }
        return writeBare(parsed, query, output, transport, rcode: 5, echoQuestion: true)
    }

    @inline(__always)
    private func sizeLimit(_ parsed: ParsedQuery, _ transport: Transport, _ output: UnsafeMutableRawBufferPointer) -> Int {
        switch transport {
        case .tcp:
            return min(65535, output.count)
        case .udp:
            let limit = parsed.hasOPT ? min(Int(parsed.udpPayload), options.maxUDPPayload) : 512
            return min(limit, output.count)
        }
    }

    @inline(__always)
    private func write(template reference: Int32, shard: Shard, _ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer,
                       _ output: UnsafeMutableRawBufferPointer, _ transport: Transport) -> Int {
        if reference >= 0 {
            return write(shard.store, Int(reference), parsed, query, output, transport)
        }
        return write(shared, Int(-(reference + 1)), parsed, query, output, transport)
    }

    @inline(__always)
    private func write(_ store: TemplateStore, _ index: Int, _ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer,
                       _ output: UnsafeMutableRawBufferPointer, _ transport: Transport) -> Int {
        let entry = store.entries[index]
        let questionEnd = 12 + parsed.questionLength
        let optLength = parsed.hasOPT ? 11 : 0
        let limit = sizeLimit(parsed, transport, output)
        var bodyLength = Int(entry.bodyLength)
        var answers = entry.answerCount, authorities = entry.authorityCount, additionals = entry.additionalCount
        if questionEnd + bodyLength + optLength > limit {
            bodyLength = Int(entry.trimmedLength)
            additionals = entry.trimmedAdditionalCount
        }
        var truncated = false
        if questionEnd + bodyLength + optLength > limit {
            truncated = true
            bodyLength = 0
            answers = 0
            authorities = 0
            additionals = 0
        }
        guard questionEnd + optLength <= output.count else { return 0 }

        writeHeader(parsed, output, rcode: entry.rcode, authoritative: entry.authoritative, truncated: truncated,
                    counts: (1, answers, authorities, additionals + (parsed.hasOPT ? 1 : 0)))
        output.baseAddress!.advanced(by: 12).copyMemory(from: query.baseAddress!.advanced(by: 12),
                                                        byteCount: parsed.questionLength)
        if bodyLength > 0 {
            store.bytes.withUnsafeBytes { bytes in
                output.baseAddress!.advanced(by: questionEnd).copyMemory(
                    from: bytes.baseAddress!.advanced(by: Int(entry.bodyStart)), byteCount: bodyLength)
            }
            if Int(entry.referenceQnameLength) != parsed.qnameLength {
                let first = Int(entry.relocationStart)
                for i in first..<(first + Int(entry.relocationCount)) {
                    let relocation = store.relocations[i]
                    let position = Int(relocation.position)
                    guard position + 2 <= bodyLength else { continue }
                    let pointer = MessageRenderer.pointer(target: Int(relocation.target),
                                                          isQnameSuffix: relocation.isQnameSuffix,
                                                          qnameLength: parsed.qnameLength)
                    output[questionEnd + position] = 0xC0 | UInt8(pointer >> 8)
                    output[questionEnd + position + 1] = UInt8(pointer & 0xFF)
                }
            }
        }
        var length = questionEnd + bodyLength
        if parsed.hasOPT { length = writeOPT(parsed, output, at: length, extendedRcode: 0) }
        return length
    }

    /// A response with no records: errors, REFUSED, BADVERS.
    private func writeBare(_ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer,
                           _ transport: Transport, rcode: UInt8, echoQuestion: Bool) -> Int {
        let withOPT = parsed.hasOPT && echoQuestion
        let questionLength = echoQuestion ? parsed.questionLength : 0
        guard 12 + questionLength + (withOPT ? 11 : 0) <= output.count else { return 0 }
        writeHeader(parsed, output, rcode: rcode & 0x0F, authoritative: false, truncated: false,
                    counts: (echoQuestion ? 1 : 0, 0, 0, withOPT ? 1 : 0))
        if echoQuestion {
            output.baseAddress!.advanced(by: 12).copyMemory(from: query.baseAddress!.advanced(by: 12),
                                                            byteCount: questionLength)
        }
        var length = 12 + questionLength
        if withOPT { length = writeOPT(parsed, output, at: length, extendedRcode: rcode >> 4) }
        return length
    }

    @inline(__always)
    private func writeHeader(_ parsed: ParsedQuery, _ output: UnsafeMutableRawBufferPointer, rcode: UInt8,
                             authoritative: Bool, truncated: Bool, counts: (Int, UInt16, UInt16, UInt16)) {
        output[0] = UInt8(parsed.id >> 8)
        output[1] = UInt8(parsed.id & 0xFF)
        // QR, the opcode and RD as asked; AA and TC as decided.
        output[2] = 0x80 | (parsed.flags0 & 0x79) | (authoritative ? 0x04 : 0) | (truncated ? 0x02 : 0)
        // RA and AD clear, CD as asked (RFC 6840 §5.9).
        output[3] = (parsed.flags1 & 0x10) | (rcode & 0x0F)
        output[4] = 0
        output[5] = UInt8(counts.0)
        output[6] = UInt8(counts.1 >> 8)
        output[7] = UInt8(counts.1 & 0xFF)
        output[8] = UInt8(counts.2 >> 8)
        output[9] = UInt8(counts.2 & 0xFF)
        output[10] = UInt8(counts.3 >> 8)
        output[11] = UInt8(counts.3 & 0xFF)
    }

    @inline(__always)
    private func writeOPT(_ parsed: ParsedQuery, _ output: UnsafeMutableRawBufferPointer, at offset: Int,
                          extendedRcode: UInt8) -> Int {
        let size = UInt16(options.maxUDPPayload)
        output[offset] = 0
        output[offset + 1] = 0
        output[offset + 2] = 41
        output[offset + 3] = UInt8(size >> 8)
        output[offset + 4] = UInt8(size & 0xFF)
        output[offset + 5] = extendedRcode
        output[offset + 6] = 0
        output[offset + 7] = parsed.dnssecOK ? 0x80 : 0
        output[offset + 8] = 0
        output[offset + 9] = 0
        output[offset + 10] = 0
        return offset + 11
    }
}
