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
    /// The records of one RRset at a generated name (A, AAAA, SRV of one priority) rotate from query to query, so
    /// each comes first equally often (config `dns.rotate`, default on). Static zones are served as written.
    public var rotate: Bool

    public init(maxUDPPayload: Int = 1232, rotate: Bool = true) {
        self.maxUDPPayload = max(512, min(maxUDPPayload, 65535))
        self.rotate = rotate
    }
}

/// An immutable, wire-ready answer table: every answer is compiled to bytes when the table is built.
/// `respond` is the hot path: bytes in, bytes out, no allocation, no lock.
public final class AnswerTable: Sendable {
    /// An update rebuilds the shards holding the names it changed (copying their other entries), so shards stay
    /// small: at a million names a shard holds about 60 (DESIGN §7). Empty shards share one object, so a small
    /// table pays only for the array of references. The top bits of the hash of a name's first labels
    /// (`NameHash.group`) pick the shard, the low bits of the whole name's hash the slot.
    public static let shardCount = 16_384

    @inline(__always)
    static func shard(of hash: UInt32) -> Int { Int(hash >> 18) & (shardCount - 1) }

    /// The snapshot generation; the SOA serial of zones with live records.
    public let serial: UInt32
    public let options: ServingOptions
    /// The origins of the zones served, deepest first. (The zone contents stay with the builder: a table holding
    /// them would make every update copy them.)
    public let zoneOrigins: [DomainName]
    let shards: ShardDirectory
    /// Answers shared by many names: per zone NXDOMAIN and NODATA, per cut the referral (a shard without names).
    nonisolated(unsafe) let shared: Shard
    let nxTemplates: [Int32]
    /// Requesting clusters by index: their names, lower-cased, as the EDNS option carries them.
    let requesters: [[UInt8]]
    /// Source networks of known clusters, longest prefix first.
    let subnets: [(network: IPNetwork, requester: Int)]
    /// The EDNS option code naming the requesting cluster (0 = none).
    let localOption: UInt16

    init(serial: UInt32, options: ServingOptions, zones: [DomainName], shards: ShardDirectory, shared: Shard,
         nxTemplates: [Int32], requesters: [[UInt8]], subnets: [(network: IPNetwork, requester: Int)],
         localOption: UInt16) {
        self.serial = serial
        self.options = options
        self.zoneOrigins = zones
        self.shards = shards
        self.shared = shared
        self.nxTemplates = nxTemplates
        self.requesters = requesters
        self.subnets = subnets
        self.localOption = localOption
    }

    /// A table that serves nothing (every query is REFUSED).
    public convenience init(serial: UInt32, options: ServingOptions = ServingOptions()) {
        self.init(serial: serial, options: options, zones: [], shards: ShardDirectory(count: Self.shardCount),
                  shared: .empty, nxTemplates: [], requesters: [], subnets: [], localOption: 0)
    }

    /// Compiles zones into a table. Throws without side effects, so a failed compile never replaces a good table.
    public static func compile(zones: [Zone], serial: UInt32, options: ServingOptions = ServingOptions()) throws(CompileError)
        -> AnswerTable
    {
        var contents: [ZoneContent] = []
        for zone in zones { contents.append(try ZoneContent(zone: zone)) }
        var builder = try TableBuilder(zones: contents, options: options)
        return try builder.buildAll(serial: serial)
    }

    /// The number of names in the table.
    public var nameCount: Int { shards.all.reduce(0) { $0 + $1.nodeCount } }

    /// Bytes held by the compiled shards (slots, entries, names, answer bytes): the table's own footprint,
    /// without the records it was compiled from.
    public var compiledByteCount: Int {
        shards.all.reduce(0) { $0 + $1.byteCount }
    }

    /// `compiledByteCount` by section, summed over the shards (for `bench/scale.sh`): where a name's bytes go.
    public var compiledSectionBytes: KeyValuePairs<String, Int> {
        var sums = [Int](repeating: 0, count: 8)
        for shard in shards.all {
            let layout = shard.layout
            let starts = [0, layout.nodes, layout.names, layout.types, layout.templates, layout.bytes, layout.variants,
                          layout.relocations, layout.byteCount].map(Int.init)
            for section in 0..<8 { sums[section] += starts[section + 1] - starts[section] }
        }
        return ["slots": sums[0], "nodes": sums[1], "names": sums[2], "types": sums[3], "templates": sums[4],
                "answer bytes": sums[5], "variants": sums[6], "relocations": sums[7]]
    }

    // MARK: - Checking

    /// What must hold of a table; returns each violation found (none when it is sound): every shard's own
    /// invariants (`Shard.validate`: slots resolve to their nodes, references name templates that exist, names
    /// sit in the shard their group hash picks) and the shared answers'; each zone's NXDOMAIN reference names a
    /// shared answer; the requester variants name requesters the table knows, as do its subnets.
    public func validate() -> [String] {
        let sharedCount = Int(shared.layout.templateCount)
        let origins = zoneOrigins.map(\.key)
        var problems = shared.validate(index: nil, origins: origins, sharedCount: sharedCount)
        for (index, shard) in shards.all.enumerated() where shard.nodeCount > 0 {
            problems += shard.validate(index: index, origins: origins, sharedCount: sharedCount)
            for v in 0..<Int(shard.layout.variantCount) where Int(shard.variant(at: v).requester) >= requesters.count {
                problems.append("shard \(index): variant \(v) is for requester \(shard.variant(at: v).requester) of \(requesters.count)")
            }
            if problems.count >= 20 { return problems }
        }
        for (zone, reference) in nxTemplates.enumerated() where reference >= 0 || Int(-(reference + 1)) >= sharedCount {
            problems.append("zone \(zone)'s NXDOMAIN answer \(reference) is not a shared answer")
        }
        for subnet in subnets where subnet.requester < 0 || subnet.requester >= requesters.count {
            problems.append("subnet \(subnet.network) names requester \(subnet.requester) of \(requesters.count)")
        }
        return problems
    }

    /// Breaks the first shard that holds names (tests only): `validate()` must then report it.
    func damageForTesting() { shards.all.first { $0.nodeCount > 0 }?.damageForTesting() }

    /// Breaks the first rotating answer's first rotation point (tests only): `validate()` must report it.
    func damageRotationForTesting() -> Bool { shards.all.contains { $0.damageRotationForTesting() } }
    /// Breaks the first partly served answer's kept length (tests only): `validate()` must report it.
    func damageKeptForTesting() -> Bool { shards.all.contains { $0.damageKeptForTesting() } }

    // MARK: - The query path

    /// Answers one query. Writes the response into `output` and returns its length; 0 means "send nothing".
    /// `output` should hold 65535 bytes for TCP and at least `options.maxUDPPayload` for UDP.
    public func respond(
        to query: UnsafeRawBufferPointer,
        transport: Transport,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        respond(to: query, transport: transport, source: .unknown, into: output)
    }

    /// Answers one query from `source` (matched against the requester subnets, DESIGN §4.3).
    public func respond(
        to query: UnsafeRawBufferPointer,
        transport: Transport,
        source: RequesterAddress,
        into output: UnsafeMutableRawBufferPointer
    ) -> Int {
        var qtype = RRType.reserved
        return respond(to: query, transport: transport, source: source, into: output, qtype: &qtype)
    }

    /// As above, and reports the query's type in `qtype` (`.reserved` when the question could not be read), so the
    /// server can count queries by type without parsing the question again.
    @inline(__always)
    public func respond(
        to query: UnsafeRawBufferPointer,
        transport: Transport,
        source: RequesterAddress,
        into output: UnsafeMutableRawBufferPointer,
        qtype: inout RRType
    ) -> Int {
        var outcome = ResponseOutcome()
        return respond(to: query, transport: transport, source: source, into: output, qtype: &qtype,
                       outcome: &outcome, cookies: .disabled)
    }

    /// As above, answering DNS cookies with `cookies` (RFC 7873, RFC 9018), and reporting in `outcome` the
    /// response's class, the name its rate-limit bucket is keyed by and the cookie verdict, so the server can rate
    /// limit without reading the response.
    @inline(__always)
    public func respond(
        to query: UnsafeRawBufferPointer,
        transport: Transport,
        source: RequesterAddress,
        into output: UnsafeMutableRawBufferPointer,
        qtype: inout RRType,
        outcome: inout ResponseOutcome,
        cookies: ServerCookies,
        tcpKeepalive: UInt16 = 0
    ) -> Int {
        // The turn counter is the caller's, carried from query to query; the rest is this query's.
        let turn = outcome.turn
        outcome = ResponseOutcome()
        outcome.turn = turn
        switch QueryParser.parse(query, localOption: localOption, tcpKeepalive: transport == .tcp ? tcpKeepalive : 0) {
        case .drop:
            return 0
        case .error(let parsed, let rcode, let echoQuestion):
            qtype = parsed.qtype
            outcome.signed = parsed.hasTSIG
            return writeBare(parsed, query, output, transport, rcode: rcode, echoQuestion: echoQuestion)
        case .query(var parsed):
            qtype = parsed.qtype
            outcome.signed = parsed.hasTSIG
            if cookies.enabled && parsed.cookieStart > 0 {
                // RFC 7873 §5.2.2: a client cookie must be 8 bytes, a server cookie 8 to 32: else FORMERR.
                let length = parsed.cookieLength
                guard length == 8 || (length >= 16 && length <= 40) else {
                    return writeBare(parsed, query, output, transport, rcode: .formErr, echoQuestion: true)
                }
                outcome.cookie = cookies.judge(query, start: parsed.cookieStart, length: length, source: source,
                                               into: &parsed)
            }
            switch parsed.qtype {
            case .opt: return writeBare(parsed, query, output, transport, rcode: .formErr, echoQuestion: true)
            case .ixfr, .axfr: return writeBare(parsed, query, output, transport, rcode: .refused, echoQuestion: true)
            default: break
            }
            // Class IN only.
            guard parsed.qclass == .in else {
                return writeBare(parsed, query, output, transport, rcode: .refused, echoQuestion: true)
            }
            return answer(parsed, query, output, transport, source, &outcome)
        }
    }

    /// The response to a query the rate limiter chose to slip (BIND's and Knot's RRL): no records, so it cannot
    /// amplify. A client that sent a COOKIE option gets BADCOOKIE with a fresh server cookie (RFC 7873 §5.2.3 lets
    /// a server answer a request without a valid server cookie so; the client retries with the cookie and is then
    /// exempt, as BIND does); any other client gets TC=1 and retries over TCP. Returns 0 (send nothing) for a query
    /// that cannot be read.
    public func respondSlipped(
        to query: UnsafeRawBufferPointer,
        source: RequesterAddress,
        into output: UnsafeMutableRawBufferPointer,
        cookies: ServerCookies
    ) -> Int {
        guard case .query(var parsed) = QueryParser.parse(query, localOption: localOption) else { return 0 }
        if cookies.enabled && parsed.cookieStart > 0 && (parsed.cookieLength == 8
            || (parsed.cookieLength >= 16 && parsed.cookieLength <= 40))
        {
            _ = cookies.judge(query, start: parsed.cookieStart, length: parsed.cookieLength, source: source,
                              into: &parsed)
            // BADCOOKIE is an extended RCODE: 7 in the header, 1 in the OPT.
            return writeBare(parsed, query, output, .udp, rcode: .badCookie, echoQuestion: true)
        }
        return writeBare(parsed, query, output, .udp, rcode: .noError, echoQuestion: true, truncated: true)
    }

    /// The hash that picks the shard of `query`'s name (`NameHash.group`) as `respond` computes it for its first
    /// lookup, or nil when the question cannot be read quickly (`respond` still handles it). With
    /// `directoryAddress(ofHash:)` and `shardAddress(ofHash:)` it lets a batch server prefetch what `respond` will
    /// read for every query of a batch before answering any, so the cache misses of the batch overlap instead of
    /// each query waiting for its own (DESIGN §8).
    @inline(__always)
    public func lookupHash(of query: UnsafeRawBufferPointer) -> UInt32? {
        var end = 12
        while true {
            guard end < query.count else { return nil }
            let length = Int(query[end])
            if length == 0 { break }
            guard length < 64 else { return nil }
            end += 1 + length
            guard end - 12 < 255 else { return nil }
        }
        return NameHash.group(query, from: 12, to: end + 1)
    }

    /// Where the directory holds the reference to the shard of `hash`.
    @inline(__always)
    public func directoryAddress(ofHash hash: UInt32) -> UnsafeRawPointer {
        shards.referenceAddress(of: AnswerTable.shard(of: hash))
    }

    /// The shard of `hash`: the object `respond` searches first.
    @inline(__always)
    public func shardAddress(ofHash hash: UInt32) -> UnsafeRawPointer {
        UnsafeRawPointer(Unmanaged.passUnretained(shards[AnswerTable.shard(of: hash)]).toOpaque())
    }

    @inline(__always)
    private func answer(_ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer,
                        _ transport: Transport, _ source: RequesterAddress,
                        _ outcome: inout ResponseOutcome) -> Int {
        let nameEnd = 12 + parsed.qnameLength
        // Exact match: the common path, one probe.
        let hash = NameHash.hash(query, from: 12, to: nameEnd)
        let shard = shards[AnswerTable.shard(of: NameHash.group(query, from: 12, to: nameEnd))]
        let node = shard.find(hash: hash, prefix: nil, packet: query, start: 12, end: nameEnd)
        if node >= 0 {
            outcome.nameKey = hash
            outcome.zone = shard.zone(of: shard.node(Int(node)))
            // Who asks matters only for names whose answer depends on it.
            if shard.node(Int(node)).hasVariants {
                let requester = identify(parsed, query, source)
                if requester.index >= 0, let variant = shard.variant(node: node, requester: requester.index,
                                                                     qtype: parsed.qtype) {
                    return write(template: variant, shard: shard, parsed, query, output, transport, &outcome,
                                 ecsScope: requester.ecsScope)
                }
            }
            return write(template: shard.template(node: node, qtype: parsed.qtype), shard: shard, parsed, query, output,
                         transport, &outcome)
        }
        // The closest encloser: strip labels until a name exists.
        var start = 12 + 1 + Int(query[12])
        while start < nameEnd - 1 {
            let suffixHash = NameHash.hash(query, from: start, to: nameEnd)
            let suffixShard = shards[AnswerTable.shard(of: NameHash.group(query, from: start, to: nameEnd))]
            let encloser = suffixShard.find(hash: suffixHash, prefix: nil, packet: query, start: start, end: nameEnd)
            if encloser >= 0 {
                let entry = suffixShard.node(Int(encloser))
                outcome.zone = suffixShard.zone(of: entry)
                if entry.delegated {
                    outcome.nameKey = suffixHash
                    return write(template: entry.fallback, shard: suffixShard, parsed, query, output, transport,
                                 &outcome)
                }
                if entry.hasWildcardChild {
                    let wildHash = NameHash.hash(query, from: start, to: nameEnd, seed: NameHash.wildcardSeed)
                    let wildShard = shards[AnswerTable.shard(of: NameHash.group(query, from: start, to: nameEnd,
                                                                                seed: NameHash.wildcardSeed,
                                                                                labels: 1))]
                    let wild = wildShard.find(hash: wildHash, prefix: (1, UInt8(ascii: "*")), packet: query,
                                              start: start, end: nameEnd)
                    if wild >= 0 {
                        let length = write(template: wildShard.template(node: wild, qtype: parsed.qtype),
                                           shard: wildShard, parsed, query, output, transport, &outcome)
                        if outcome.responseClass == .answer || outcome.responseClass == .noData {
                            outcome.responseClass = .wildcard
                            outcome.nameKey = wildHash
                        }
                        return length
                    }
                }
                let zone = outcome.zone
                // NXDOMAIN is keyed by its zone (BIND, Knot): random names under one zone share a bucket.
                outcome.nameKey = UInt32(truncatingIfNeeded: zone &+ 1) &* 0x9E37_79B9
                return write(template: nxTemplates[zone], shard: suffixShard, parsed, query, output, transport,
                             &outcome)
            }
            start += 1 + Int(query[start])
        }
        return writeBare(parsed, query, output, transport, rcode: .refused, echoQuestion: true)
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
                       _ output: UnsafeMutableRawBufferPointer, _ transport: Transport,
                       _ outcome: inout ResponseOutcome, ecsScope: UInt8 = 0) -> Int {
        if reference >= 0 {
            return write(shard, Int(reference), parsed, query, output, transport, ecsScope, &outcome)
        }
        return write(shared, Int(-(reference + 1)), parsed, query, output, transport, ecsScope, &outcome)
    }

    @inline(__always)
    private func write(_ shard: Shard, _ index: Int, _ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer,
                       _ output: UnsafeMutableRawBufferPointer, _ transport: Transport, _ ecsScope: UInt8,
                       _ outcome: inout ResponseOutcome) -> Int {
        let (entry, bytes, relocations) = shard.template(index)
        // The class of the `Resolution` the template was compiled from, read off the facts it keeps.
        if entry.rcode == RCode.nxDomain.header {
            outcome.responseClass = .nxDomain
        } else if entry.rcode != RCode.noError.header {
            outcome.responseClass = .error
            outcome.nameKey = 0
        } else if !entry.authoritative {
            outcome.responseClass = .referral
        } else {
            outcome.responseClass = entry.answerCount > 0 ? .answer : .noData
        }
        let questionEnd = 12 + parsed.questionLength
        let optLength = optLength(parsed)
        let limit = sizeLimit(parsed, transport, output)
        let body = bytes.advanced(by: Int(entry.bodyStart))
        // A rotating run may be served in part (`Rotation.kept`, `answers: N`): the rest of it ends the body.
        let leftOut = entry.rotationCount > 1
            ? Int(entry.rotationLength) - Int(body.loadUnaligned(fromByteOffset: Int(entry.bodyLength)
                                                                     + 2 * Int(entry.rotationCount), as: UInt16.self))
            : 0
        var bodyLength = Int(entry.bodyLength) - leftOut
        var answers = entry.answerCount, authorities = entry.authorityCount, additionals = entry.additionalCount
        if questionEnd + bodyLength + optLength > limit {
            bodyLength = Int(entry.trimmedLength) - leftOut
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
            let out = output.baseAddress!.advanced(by: questionEnd)
            if entry.rotationCount > 1 {
                // The run sits in the answer section, inside every length kept (`Rotation`): copied from the
                // point this query's turn picks to its end, then from its start to that point, as far as the
                // answer holds (`kept`, the whole run unless the service limits its answers).
                let point = Int(body.loadUnaligned(fromByteOffset: Int(entry.bodyLength)
                                                       + 2 * Int(outcome.turn % UInt32(entry.rotationCount)),
                                                   as: UInt16.self))
                outcome.turn &+= 1
                let start = Int(entry.rotationStart), length = Int(entry.rotationLength), kept = length - leftOut
                let first = min(length - point, kept)
                out.copyMemory(from: body, byteCount: start)
                out.advanced(by: start).copyMemory(from: body.advanced(by: start + point), byteCount: first)
                out.advanced(by: start + first).copyMemory(from: body.advanced(by: start), byteCount: kept - first)
                out.advanced(by: start + kept).copyMemory(from: body.advanced(by: start + length),
                                                          byteCount: bodyLength - start - kept)
            } else {
                out.copyMemory(from: body, byteCount: bodyLength)
            }
            if Int(entry.referenceQnameLength) != parsed.qnameLength {
                let first = Int(entry.relocationStart)
                for i in first..<(first + Int(entry.relocationCount)) {
                    let relocation = relocations.load(fromByteOffset: i * MemoryLayout<Relocation>.stride,
                                                      as: Relocation.self)
                    let position = Int(relocation.position)
                    guard position + 2 <= bodyLength else { continue }
                    let pointer = MessageRenderer.pointer(target: Int(relocation.target),
                                                          isQnameSuffix: relocation.isQnameSuffix,
                                                          qnameLength: parsed.qnameLength)
                    output[questionEnd + position] = 0xC0 | UInt8(pointer >> 8)
                    output[questionEnd + position + 1] = UInt8(pointer & 0xFF)
                }
            }
            // A live zone's SOA carries the serial of this table, whichever table rendered the body.
            if entry.serialPosition != TemplateEntry.noSerial, Int(entry.serialPosition) + 4 <= bodyLength {
                let at = questionEnd + Int(entry.serialPosition)
                output[at] = UInt8(truncatingIfNeeded: serial >> 24)
                output[at + 1] = UInt8(truncatingIfNeeded: serial >> 16)
                output[at + 2] = UInt8(truncatingIfNeeded: serial >> 8)
                output[at + 3] = UInt8(truncatingIfNeeded: serial)
            }
        }
        var length = questionEnd + bodyLength
        if parsed.hasOPT { length = writeOPT(parsed, query, output, at: length, extendedRcode: 0, ecsScope: ecsScope) }
        return length
    }

    /// A response with no records: errors, REFUSED, BADVERS. With our OPT whenever the request had a valid one,
    /// also without a question (a header-only NOTIMP or FORMERR).
    private func writeBare(_ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer,
                           _ transport: Transport, rcode: RCode, echoQuestion: Bool, truncated: Bool = false) -> Int {
        let withOPT = parsed.hasOPT
        let questionLength = echoQuestion ? parsed.questionLength : 0
        guard 12 + questionLength + (withOPT ? optLength(parsed) : 0) <= output.count else { return 0 }
        writeHeader(parsed, output, rcode: rcode.header, authoritative: false, truncated: truncated,
                    counts: (echoQuestion ? 1 : 0, 0, 0, withOPT ? 1 : 0))
        if echoQuestion {
            output.baseAddress!.advanced(by: 12).copyMemory(from: query.baseAddress!.advanced(by: 12),
                                                            byteCount: questionLength)
        }
        var length = 12 + questionLength
        if withOPT { length = writeOPT(parsed, query, output, at: length, extendedRcode: rcode.extended, ecsScope: 0) }
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

    /// Our OPT record: 11 bytes, plus the echoed ECS option when the query carried one, plus the COOKIE option
    /// (client cookie and our 16-byte server cookie) when cookies are on and the query sent one, plus
    /// edns-tcp-keepalive with the connection's idle timeout when a TCP query asked for it (RFC 7828 §3.3.2; never
    /// over UDP, §3.3.1). The private option naming the requester is never echoed.
    @inline(__always)
    private func optLength(_ parsed: ParsedQuery) -> Int {
        guard parsed.hasOPT else { return 0 }
        return 11 + optionsLength(parsed)
    }

    @inline(__always)
    private func optionsLength(_ parsed: ParsedQuery) -> Int {
        (parsed.ecsStart > 0 ? 4 + parsed.ecsLength : 0) + (parsed.writesCookie ? 28 : 0)
            + (parsed.keepaliveTimeout > 0 ? 6 : 0)
    }

    @inline(__always)
    private func writeOPT(_ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer, _ output: UnsafeMutableRawBufferPointer,
                          at offset: Int, extendedRcode: UInt8, ecsScope: UInt8) -> Int {
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
        let rdataLength = optionsLength(parsed)
        output[offset + 9] = UInt8(rdataLength >> 8)
        output[offset + 10] = UInt8(rdataLength & 0xFF)
        var end = offset + 11
        if parsed.ecsStart > 0 {
            // RFC 7871 §7.2.1: family, source prefix and address as asked; the scope says how far our answer
            // applies.
            output[end] = 0
            output[end + 1] = 8
            output[end + 2] = UInt8(parsed.ecsLength >> 8)
            output[end + 3] = UInt8(parsed.ecsLength & 0xFF)
            for i in 0..<parsed.ecsLength { output[end + 4 + i] = query[parsed.ecsStart + i] }
            output[end + 4 + 3] = ecsScope
            end += 4 + parsed.ecsLength
        }
        if parsed.writesCookie {
            // RFC 7873 §4: the client cookie echoed, then our server cookie (RFC 9018 §4.2: version 1, three
            // reserved zero bytes, the timestamp, the hash).
            output[end] = 0
            output[end + 1] = 10
            output[end + 2] = 0
            output[end + 3] = 24
            output.baseAddress!.advanced(by: end + 4).copyMemory(from: query.baseAddress!.advanced(by: parsed.cookieStart),
                                                                 byteCount: 8)
            output.storeBytes(of: UInt32(0x0100_0000).bigEndian, toByteOffset: end + 12, as: UInt32.self)
            output.storeBytes(of: parsed.cookieTimestamp.bigEndian, toByteOffset: end + 16, as: UInt32.self)
            output.storeBytes(of: parsed.cookieHash, toByteOffset: end + 20, as: UInt64.self)
            end += 28
        }
        if parsed.keepaliveTimeout > 0 {
            // RFC 7828 §3.1: option 11, the idle timeout in units of 100 ms.
            output[end] = 0
            output[end + 1] = 11
            output[end + 2] = 0
            output[end + 3] = 2
            output[end + 4] = UInt8(parsed.keepaliveTimeout >> 8)
            output[end + 5] = UInt8(parsed.keepaliveTimeout & 0xFF)
            end += 6
        }
        return end
    }

    // MARK: - Who asks (DESIGN §4.3)

    struct Requester {
        var index = -1
        /// The ECS scope prefix to report when the requester came from the client subnet.
        var ecsScope: UInt8 = 0
    }

    /// The EDNS option naming the cluster, then the client subnet, then the source address.
    @inline(__always)
    func identify(_ parsed: ParsedQuery, _ query: UnsafeRawBufferPointer, _ source: RequesterAddress) -> Requester {
        if parsed.localOptionStart > 0 {
            for (index, name) in requesters.enumerated() where name.count == parsed.localOptionLength {
                var equal = true
                for i in 0..<name.count {
                    let byte = query[parsed.localOptionStart + i]
                    if name[i] != (byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte) { equal = false; break }
                }
                if equal { return Requester(index: index) }
            }
        }
        guard !subnets.isEmpty else { return Requester() }
        if parsed.ecsStart > 0 {
            let family = UInt16(query[parsed.ecsStart]) << 8 | UInt16(query[parsed.ecsStart + 1])
            let sourcePrefix = Int(query[parsed.ecsStart + 2])
            let addressLength = family == 1 ? 4 : 16
            return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer -> Requester in
                buffer.initialize(repeating: 0)
                for i in 0..<(parsed.ecsLength - 4) { buffer[i] = query[parsed.ecsStart + 4 + i] }
                let address = UnsafeRawBufferPointer(start: buffer.baseAddress, count: addressLength)
                for subnet in subnets where subnet.network.address.count == addressLength
                    && subnet.network.prefixLength <= sourcePrefix && subnet.network.contains(address)
                {
                    return Requester(index: subnet.requester, ecsScope: UInt8(subnet.network.prefixLength))
                }
                return Requester()
            }
        }
        switch source {
        case .unknown:
            return Requester()
        case .ipv4(let value):
            return withUnsafeBytes(of: value.bigEndian) { matchSource($0) }
        case .ipv6(let high, let low):
            return withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { matchSource($0) }
        }
    }

    @inline(__always)
    private func matchSource(_ address: UnsafeRawBufferPointer) -> Requester {
        for subnet in subnets where subnet.network.contains(address) { return Requester(index: subnet.requester) }
        return Requester()
    }
}

/// The address a query came from, as the server read it off the socket.
public enum RequesterAddress: Sendable, Equatable {
    case unknown
    /// An IPv4 address, most significant byte first (`10.1.2.3` is 0x0A010203).
    case ipv4(UInt32)
    /// An IPv6 address as two 64-bit halves, most significant first.
    case ipv6(UInt64, UInt64)
}
