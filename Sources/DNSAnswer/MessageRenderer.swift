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
    var rcode: UInt8
    var authoritative: Bool
    var resolution: Resolution
    /// Where the SOA serial sits in the body, for a zone whose serial follows the table's: written from the
    /// table at answer time, so a body copied unchanged into a later table still carries the current serial.
    var serialPosition: Int? = nil
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
    static func render(_ answer: ResolvedAnswer, qname: DomainName, fixedSuffix: DomainName,
                       serialFollowsTable: Bool = false) -> RenderedBody {
        var renderer = MessageRenderer(qname: qname, fixedSuffix: fixedSuffix)
        for record in answer.answer { renderer.write(record) }
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
            serialPosition: serialFollowsTable ? renderer.serialPosition : nil
        )
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
