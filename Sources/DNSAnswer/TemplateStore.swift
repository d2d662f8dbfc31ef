/// Where one compiled answer lives inside a `TemplateStore`, plus the header facts it carries.
struct TemplateEntry: Sendable {
    var bodyStart: UInt32
    var bodyLength: UInt32
    var trimmedLength: UInt32
    var relocationStart: UInt32
    var relocationCount: UInt32
    var answerCount: UInt16
    var authorityCount: UInt16
    var additionalCount: UInt16
    var trimmedAdditionalCount: UInt16
    var referenceQnameLength: UInt16
    var rcode: UInt8
    var authoritative: Bool
    /// Where the table's serial is written in the body (a live zone's SOA), or `noSerial`.
    var serialPosition: UInt16

    static let noSerial = UInt16.max
}

/// Compiled answers packed into flat arrays (no per-answer objects, nothing to retain per query).
struct TemplateStore: Sendable {
    var entries: [TemplateEntry] = []
    var bytes: [UInt8] = []
    var relocations: [Relocation] = []

    mutating func add(_ body: RenderedBody) -> Int32 {
        let entry = TemplateEntry(
            bodyStart: UInt32(bytes.count),
            bodyLength: UInt32(body.bytes.count),
            trimmedLength: UInt32(body.trimmedLength),
            relocationStart: UInt32(relocations.count),
            relocationCount: UInt32(body.relocations.count),
            answerCount: UInt16(body.answerCount),
            authorityCount: UInt16(body.authorityCount),
            additionalCount: UInt16(body.additionalCount),
            trimmedAdditionalCount: UInt16(body.trimmedAdditionalCount),
            referenceQnameLength: UInt16(body.referenceQnameLength),
            rcode: body.rcode,
            authoritative: body.authoritative,
            serialPosition: body.serialPosition.map { UInt16($0) } ?? TemplateEntry.noSerial
        )
        bytes += body.bytes
        relocations += body.relocations
        entries.append(entry)
        return Int32(entries.count - 1)
    }

    /// Copies template `index` of `shard` (bytes, relocations and header facts) and returns its index here.
    /// Relocation positions are relative to the body, so they copy unchanged.
    mutating func copy(_ index: Int, from shard: Shard) -> Int32 {
        let (found, body, relocationBase) = shard.template(index)
        var entry = found
        entry.bodyStart = UInt32(bytes.count)
        entry.relocationStart = UInt32(relocations.count)
        bytes.append(contentsOf: UnsafeRawBufferPointer(start: body.advanced(by: Int(found.bodyStart)),
                                                        count: Int(found.bodyLength)))
        let stride = MemoryLayout<Relocation>.stride
        for i in Int(found.relocationStart)..<(Int(found.relocationStart) + Int(found.relocationCount)) {
            relocations.append(relocationBase.load(fromByteOffset: i * stride, as: Relocation.self))
        }
        entries.append(entry)
        return Int32(entries.count - 1)
    }
}
