public import DNSWire

/// A compression pointer in a rendered body whose target depends on the length of the query name.
struct Relocation: Sendable, Equatable {
    /// Where the two pointer bytes sit in the body.
    var position: UInt16
    /// For `qnameSuffix`, the length of the suffix of the query name; for a body pointer, the body offset.
    var target: UInt16
    var isQnameSuffix: Bool
}

/// The wire form of everything after the question, plus what it takes to place it behind any question.
struct RenderedBody: Sendable, Equatable {
    var bytes: [UInt8]
    /// The body length without the optional additional records.
    var trimmedLength: Int
    var answerCount: Int
    var authorityCount: Int
    var additionalCount: Int
    var trimmedAdditionalCount: Int
    var relocations: [Relocation]
    /// The query name length the pointers were resolved for (a question of another length is patched).
    var referenceQnameLength: Int
    var rcode: RCode
    var authoritative: Bool
    var resolution: Resolution
    /// Where the SOA serial sits in the body, for a zone whose serial follows the table's: written from the
    /// table at answer time, so a body copied unchanged into a later table still carries the current serial.
    var serialPosition: Int? = nil
    /// The run of answer records that rotates (`Rotation`), nil when none does.
    var rotation: Rotation? = nil
}

/// A run of answer records whose order changes from query to query (README, "Traffic policies").
///
/// What holds (checked by `Shard.validate` on the compiled form):
/// - the run lies inside the answer section, so inside the part of the body that truncation keeps;
/// - it is whole records of one RRset owned by one name (A, AAAA, or SRV of one priority), at least two;
/// - no relocation lies inside it and no pointer outside it lands inside it (A and AAAA data hold no names, SRV
///   targets are written uncompressed, RFC 2782, and the owner is the question `C0 0C`): the records can be
///   reordered as bytes;
/// - every point is the offset of a record's start inside the run (0 for the first record); answering with point
///   `p` copies the run from `p` to its end, then from its start to `p`. With `count` points one per record
///   (uniform rotation), each record comes first once every `count` queries; a weighted service repeats the
///   points of its clusters' first records in proportion to the weights.
/// - `kept` (a service's `answers: N`) is how many bytes of that rotated copy an answer holds: the whole run, or
///   fewer, and then the run's records are all of one size (A or AAAA behind the question's pointer), `kept` is a
///   whole number of them, and the run ends the body (nothing after it: no section, relocation or serial
///   position moves when the rest of the run is left out). The answer count the body carries is the served one.
struct Rotation: Sendable, Equatable {
    /// Points a template holds: in a run of more records, the first 255 take turns coming first (the rest still
    /// follow in turn behind them).
    static let maxPoints = Int(UInt8.max)

    var start: Int
    var length: Int
    var points: [UInt16]
    /// Bytes of the rotated run an answer holds (`length` unless the service limits its answers).
    var kept: Int

    init(start: Int, length: Int, points: [UInt16], kept: Int? = nil) {
        self.start = start
        self.length = length
        self.points = points
        self.kept = kept ?? length
    }
}

/// A suffix of a name that a compression pointer may land on.
private struct CompressionTarget {
    /// The whole lower-cased wire name; the suffix starts at `start`.
    var key: [UInt8]
    var start: Int
    /// For a question suffix, its length; else its offset in the body.
    var target: Int
    var isQnameSuffix: Bool
}

/// Renders a `ResolvedAnswer` into wire bytes that follow the question, with name compression (RFC 1035 §4.1.4).
///
/// The query name sits at offset 12 of every response, so an owner equal to the query name is always `C0 0C`
/// (NSD does the same): the answer then carries the case the client asked with. Other pointers into the
/// question or the body are recorded as relocations, so one body serves every query name of the same shape
/// (a wildcard, a negative answer, a referral below a cut).
struct MessageRenderer {
    private var body: [UInt8] = []
    private var relocations: [Relocation] = []
    private var serialPosition: Int?
    /// Names a pointer can land on: a suffix (from `start`) of a lower-cased wire name, and where it is. A body
    /// holds a few dozen at most, so a linear scan beats hashing, and no suffix is copied out as a name of its own
    /// (that allocation per label was a tenth of a whole table build).
    private var targets: [CompressionTarget] = []
    private let qname: DomainName
    private let questionLength: Int

    /// `qname` is the name the body is rendered for; `fixedSuffix` is the part of it every query using this body
    /// shares (the whole name for an exact match, the closest encloser for a wildcard, the zone for a negative).
    init(qname: DomainName, fixedSuffix: DomainName) {
        self.qname = qname
        self.questionLength = qname.wire.count + 4
        let key = fixedSuffix.key
        var offset = 0
        while offset < key.count, key[offset] != 0 {
            // The whole question name is a constant pointer, handled in `writeName`.
            if !(offset == 0 && fixedSuffix == qname) {
                targets.append(CompressionTarget(key: key, start: offset, target: key.count - offset, isQnameSuffix: true))
            }
            offset += 1 + Int(key[offset])
        }
    }

    private func target(matching key: [UInt8], from start: Int) -> CompressionTarget? {
        let length = key.count - start
        for candidate in targets where candidate.key.count - candidate.start == length {
            var i = 0
            while i < length, candidate.key[candidate.start + i] == key[start + i] { i += 1 }
            if i == length { return candidate }
        }
        return nil
    }

    /// `serialFollowsTable`: the zone's SOA serial is the table's (live zones), so its position is recorded.
    /// `rotate`: the answer's records of one RRset rotate from query to query (`Rotation`); only generated names
    /// do (static zones are served as written).
    /// `weights`: a weighted service's picks (`RecordNames.weightPicks`), which replace the even turns of the
    /// RRset they name.
    /// `keep`: a service's `answers: N`: an answer holds only the first N records of its first A or AAAA run, in
    /// the order it is served (`Rotation.kept` when the run rotates; else those N records are all it is compiled
    /// with).
    static func render(_ answer: ResolvedAnswer, qname: DomainName, fixedSuffix: DomainName,
                       serialFollowsTable: Bool = false, rotate: Bool = false,
                       weights: [ResourceRecord] = [], keep: Int? = nil) -> RenderedBody {
        guard let keep, let run = addressRun(in: answer.answer), run.count > keep else {
            return render(answer, qname: qname, fixedSuffix: fixedSuffix, serialFollowsTable: serialFollowsTable,
                          rotate: rotate, weights: weights)
        }
        var body = render(answer, qname: qname, fixedSuffix: fixedSuffix, serialFollowsTable: serialFollowsTable,
                          rotate: rotate, weights: weights)
        // The rotating run is this one (records owned by the question, written `C0 0C`, all of one size) and
        // ends the body: serve `keep` of its records.
        let size = 12 + answer.answer[run.lowerBound].rdata.count
        if var rotation = body.rotation, Self.fixedSize(answer.answer[run], owner: qname),
           rotation.length == run.count * size, rotation.start + rotation.length == body.bytes.count,
           body.trimmedLength == body.bytes.count {
            rotation.kept = keep * size
            body.rotation = rotation
            body.answerCount -= run.count - keep
            return body
        }
        var truncated = answer
        truncated.answer.removeSubrange((run.lowerBound + keep)..<run.upperBound)
        return render(truncated, qname: qname, fixedSuffix: fixedSuffix, serialFollowsTable: serialFollowsTable,
                      rotate: rotate, weights: [])
    }

    /// The first run of A or AAAA records of one owner and type in `records`.
    private static func addressRun(in records: [ResourceRecord]) -> Range<Int>? {
        guard let first = records.firstIndex(where: { $0.type == .a || $0.type == .aaaa }) else { return nil }
        var end = first + 1
        while end < records.count, records[end].type == records[first].type, records[end].owner == records[first].owner {
            end += 1
        }
        return first..<end
    }

    /// Records whose wire forms are all one size: owned by `owner` (the question: a 2-byte pointer), of one type
    /// and one RDATA length, with no name in it.
    private static func fixedSize(_ records: ArraySlice<ResourceRecord>, owner: DomainName) -> Bool {
        guard let first = records.first else { return true }
        return records.allSatisfy {
            $0.owner == owner && $0.type == first.type && $0.rdata.count == first.rdata.count && $0.compressibleNames.isEmpty
        }
    }

    private static func render(_ answer: ResolvedAnswer, qname: DomainName, fixedSuffix: DomainName,
                               serialFollowsTable: Bool, rotate: Bool, weights: [ResourceRecord]) -> RenderedBody {
        var renderer = MessageRenderer(qname: qname, fixedSuffix: fixedSuffix)
        var starts: [Int] = []
        for record in answer.answer {
            starts.append(renderer.body.count)
            renderer.write(record)
        }
        starts.append(renderer.body.count)
        for record in answer.authority { renderer.write(record) }
        for record in answer.additionalRequired { renderer.write(record) }
        let trimmedLength = renderer.body.count
        for record in answer.additionalOptional { renderer.write(record) }
        return RenderedBody(
            bytes: renderer.body,
            trimmedLength: trimmedLength,
            answerCount: answer.answer.count,
            authorityCount: answer.authority.count,
            additionalCount: answer.additionalRequired.count + answer.additionalOptional.count,
            trimmedAdditionalCount: answer.additionalRequired.count,
            relocations: renderer.relocations,
            referenceQnameLength: qname.wire.count,
            rcode: answer.rcode,
            authoritative: answer.authoritative,
            resolution: answer.resolution,
            serialPosition: serialFollowsTable ? renderer.serialPosition : nil,
            rotation: rotate ? renderer.rotation(of: answer.answer, starts: starts, weights: weights) : nil
        )
    }

    /// The first run of at least two answer records that may rotate (`Rotation`'s rules), or nil.
    private func rotation(of records: [ResourceRecord], starts: [Int], weights: [ResourceRecord]) -> Rotation? {
        func sameSet(_ a: ResourceRecord, _ b: ResourceRecord) -> Bool {
            guard a.owner == b.owner, a.type == b.type else { return false }
            // SRV rotates among targets of one priority (RFC 2782: lower priorities are tried first).
            return a.type != .srv || (a.rdata.count >= 2 && b.rdata.count >= 2 && a.rdata[0..<2] == b.rdata[0..<2])
        }
        var first = 0
        while first < records.count {
            var end = first + 1
            let record = records[first]
            let rotatable = record.type == .a || record.type == .aaaa || (record.type == .srv && record.compressibleNames.isEmpty)
            while rotatable, end < records.count, sameSet(record, records[end]) { end += 1 }
            if rotatable, end - first >= 2 {
                let start = starts[first], stop = starts[end]
                let movable = relocations.allSatisfy { relocation in
                    let position = Int(relocation.position)
                    let inside = position >= start && position < stop
                    let landsInside = !relocation.isQnameSuffix && Int(relocation.target) >= start
                        && Int(relocation.target) < stop
                    return !inside && !landsInside
                }
                // Rotation points are 16-bit offsets: a run fits in a message.
                if movable, stop - start <= Int(UInt16.max) {
                    // Weighted picks name records of the RRset by index: a pick out of the run drops them all.
                    let type = record.type.rawValue
                    if let picks = weights.first(where: { $0.rdata.count >= 2 && UInt16($0.rdata[0]) << 8 | UInt16($0.rdata[1]) == type }) {
                        let indexes = stride(from: 2, to: picks.rdata.count - 1, by: 2).map {
                            Int(picks.rdata[$0]) << 8 | Int(picks.rdata[$0 + 1])
                        }
                        if !indexes.isEmpty, indexes.count <= Rotation.maxPoints, indexes.allSatisfy({ $0 < end - first }) {
                            return Rotation(start: start, length: stop - start,
                                            points: indexes.map { UInt16(starts[first + $0] - start) })
                        }
                    }
                    return Rotation(start: start, length: stop - start,
                                    points: starts[first..<min(end, first + Rotation.maxPoints)].map { UInt16($0 - start) })
                }
            }
            first = end
        }
        return nil
    }

    private mutating func write(_ record: ResourceRecord) {
        writeName(record.owner, compress: true)
        append16(record.type.rawValue)
        append16(1)
        append32(record.ttl)
        let lengthAt = body.count
        append16(0)
        let rdataStart = body.count
        var cursor = 0
        for nameOffset in record.compressibleNames where nameOffset >= cursor && nameOffset < record.rdata.count {
            body += record.rdata[cursor..<nameOffset]
            guard let (name, length) = Self.name(in: record.rdata, at: nameOffset) else {
                cursor = nameOffset
                continue
            }
            writeName(name, compress: true)
            cursor = nameOffset + length
        }
        if record.type == .soa, serialPosition == nil, record.rdata.count - cursor == 20 {
            serialPosition = body.count
        }
        body += record.rdata[cursor...]
        let rdataLength = body.count - rdataStart
        body[lengthAt] = UInt8(rdataLength >> 8)
        body[lengthAt + 1] = UInt8(rdataLength & 0xFF)
    }

    private static func name(in bytes: [UInt8], at offset: Int) -> (DomainName, Int)? {
        var end = offset
        while end < bytes.count, bytes[end] != 0 {
            guard bytes[end] & 0xC0 == 0 else { return nil }
            end += 1 + Int(bytes[end])
        }
        guard end < bytes.count, let name = try? DomainName(wire: Array(bytes[offset...end])) else { return nil }
        return (name, end - offset + 1)
    }

    private mutating func writeName(_ name: DomainName, compress: Bool) {
        if name == qname {
            append16(0xC00C)
            return
        }
        let key = name.key
        let wire = name.wire
        var offset = 0
        while offset < key.count, key[offset] != 0 {
            if let found = target(matching: key, from: offset) {
                let position = body.count
                // Past 65,535 bytes the body is too large to serve: the compile refuses it (answerTooLarge).
                if position <= Int(UInt16.max) {
                    relocations.append(Relocation(position: UInt16(position), target: UInt16(found.target),
                                                  isQnameSuffix: found.isQnameSuffix))
                }
                let pointer = pointerValue(target: found.target, isQnameSuffix: found.isQnameSuffix,
                                           qnameLength: qname.wire.count)
                append16(0xC000 | UInt16(pointer))
                return
            }
            // Remember this suffix as a target if a pointer can reach it (offsets stop at 0x3FFF).
            let absolute = 12 + questionLength + body.count
            if absolute + 300 < 0x3FFF {
                targets.append(CompressionTarget(key: key, start: offset, target: body.count, isQnameSuffix: false))
            }
            let labelLength = Int(wire[offset])
            body += wire[offset...(offset + labelLength)]
            offset += 1 + labelLength
        }
        body.append(0)
    }

    /// Where a pointer lands for a question name of `qnameLength` bytes.
    static func pointer(target: Int, isQnameSuffix: Bool, qnameLength: Int) -> Int {
        isQnameSuffix ? 12 + qnameLength - target : 12 + qnameLength + 4 + target
    }

    private func pointerValue(target: Int, isQnameSuffix: Bool, qnameLength: Int) -> Int {
        Self.pointer(target: target, isQnameSuffix: isQnameSuffix, qnameLength: qnameLength)
    }

    private mutating func append16(_ value: UInt16) {
        body.append(UInt8(value >> 8))
        body.append(UInt8(value & 0xFF))
    }

    private mutating func append32(_ value: UInt32) {
        append16(UInt16(value >> 16))
        append16(UInt16(value & 0xFFFF))
    }
}
