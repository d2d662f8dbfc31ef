/// Where one compiled answer lives inside a `TemplateStore`, plus the header facts it carries. 28 bytes: a body
/// fits in 65,535 bytes (a DNS message does; the compile refuses larger answers), so lengths take 16 bits.
struct TemplateEntry: Sendable {
    var bodyStart: UInt32
    var relocationStart: UInt32
    var bodyLength: UInt16
    var trimmedLength: UInt16
    var relocationCount: UInt16
    var answerCount: UInt16
    var authorityCount: UInt16
    var additionalCount: UInt16
    var trimmedAdditionalCount: UInt16
    var referenceQnameLength: UInt16
    /// Where the table's serial is written in the body (a live zone's SOA), or `noSerial`.
    var serialPosition: UInt16
    var rcode: UInt8
    var authoritative: Bool

    static let noSerial = UInt16.max
    /// The largest body a template holds: a message of 65,535 bytes less its header, the longest question and
    /// an OPT record.
    static let maxBodyLength = 65535 - 12 - 259 - 11
}

/// Compiled answers packed into flat arrays (no per-answer objects, nothing to retain per query).
struct TemplateStore: Sendable {
    var entries: [TemplateEntry] = []
    var bytes: [UInt8] = []
    var relocations: [Relocation] = []
    /// Store an answer equal to one stored before (header facts, bytes and relocations) once, under one index:
    /// a service's global, region, zone and clusterset names, which share a shard (`NameHash.group`), answer
    /// A with the same bytes when the service runs in one cluster. Off for the table's shared answers, whose
    /// indexes must follow their order.
    var deduplicates = false
    /// The stored answers by content, while `deduplicates`.
    private var byContent: [[UInt8]: Int32] = [:]

    init(deduplicates: Bool = false) {
        self.deduplicates = deduplicates
    }

    /// What makes two answers the same: the header facts (positions aside), then the body and relocations.
    private static func content(_ entry: TemplateEntry, body: UnsafeRawBufferPointer,
                                relocations: some Collection<Relocation>) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(24 + body.count + relocations.count * 5)
        // Without relocations the question length a body was made for does not matter: every node writes its
        // answers behind its own name only, and the same bytes then make the same message for any of them.
        let questionLength = relocations.isEmpty ? 0 : entry.referenceQnameLength
        for field in [entry.bodyLength, entry.trimmedLength, entry.relocationCount, entry.answerCount,
                      entry.authorityCount, entry.additionalCount, entry.trimmedAdditionalCount,
                      questionLength, entry.serialPosition] {
            key.append(UInt8(field >> 8))
            key.append(UInt8(field & 0xFF))
        }
        key.append(entry.rcode)
        key.append(entry.authoritative ? 1 : 0)
        key.append(contentsOf: body)
        for relocation in relocations {
            key += [UInt8(relocation.position >> 8), UInt8(relocation.position & 0xFF), UInt8(relocation.target >> 8),
                    UInt8(relocation.target & 0xFF), relocation.isQnameSuffix ? 1 : 0]
        }
        return key
    }

    /// Adds a compiled answer. With `host`, its body is the start of template `host`'s body, which it shares
    /// instead of repeating the bytes (ANY at a name with one type is that type's answer without the additional
    /// section: at a headless service's SRV name, 195 of 273 bytes).
    mutating func add(_ body: RenderedBody, sharingBytesOf host: Int32? = nil) -> Int32 {
        precondition(body.bytes.count <= TemplateEntry.maxBodyLength, "the compile refuses answers over 65,535 bytes")
        let entry = TemplateEntry(
            bodyStart: host.map { entries[Int($0)].bodyStart } ?? UInt32(bytes.count),
            relocationStart: UInt32(relocations.count),
            bodyLength: UInt16(body.bytes.count),
            trimmedLength: UInt16(body.trimmedLength),
            relocationCount: UInt16(body.relocations.count),
            answerCount: UInt16(body.answerCount),
            authorityCount: UInt16(body.authorityCount),
            additionalCount: UInt16(body.additionalCount),
            trimmedAdditionalCount: UInt16(body.trimmedAdditionalCount),
            referenceQnameLength: UInt16(body.referenceQnameLength),
            serialPosition: body.serialPosition.map { UInt16($0) } ?? TemplateEntry.noSerial,
            rcode: body.rcode,
            authoritative: body.authoritative
        )
        var key: [UInt8] = []
        if deduplicates {
            key = body.bytes.withUnsafeBytes { Self.content(entry, body: $0, relocations: body.relocations) }
            if let same = byContent[key] { return same }
        }
        if let host {
            let start = Int(entries[Int(host)].bodyStart)
            precondition(bytes[start..<(start + body.bytes.count)].elementsEqual(body.bytes), "a shared body is its host's start")
        } else {
            bytes += body.bytes
        }
        relocations += body.relocations
        entries.append(entry)
        if deduplicates { byContent[key] = Int32(entries.count - 1) }
        return Int32(entries.count - 1)
    }

    /// Copies template `index` of `shard` (bytes, relocations and header facts) and returns its index here.
    /// Relocation positions are relative to the body, so they copy unchanged. With `host` (a template copied here
    /// before, whose body starts with this one's), the bytes are shared again rather than copied.
    mutating func copy(_ index: Int, from shard: Shard, sharingBytesOf host: Int32? = nil) -> Int32 {
        let (found, body, relocationBase) = shard.template(index)
        let stride = MemoryLayout<Relocation>.stride
        let oldRelocations = (Int(found.relocationStart)..<(Int(found.relocationStart) + Int(found.relocationCount)))
            .map { relocationBase.load(fromByteOffset: $0 * stride, as: Relocation.self) }
        var key: [UInt8] = []
        if deduplicates {
            key = Self.content(found, body: UnsafeRawBufferPointer(start: body.advanced(by: Int(found.bodyStart)),
                                                                   count: Int(found.bodyLength)),
                               relocations: oldRelocations)
            if let same = byContent[key] { return same }
        }
        var entry = found
        entry.relocationStart = UInt32(relocations.count)
        if let host {
            entry.bodyStart = entries[Int(host)].bodyStart
        } else {
            entry.bodyStart = UInt32(bytes.count)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: body.advanced(by: Int(found.bodyStart)),
                                                            count: Int(found.bodyLength)))
        }
        relocations += oldRelocations
        entries.append(entry)
        if deduplicates { byContent[key] = Int32(entries.count - 1) }
        return Int32(entries.count - 1)
    }
}
