/// Where one compiled answer lives inside a `TemplateStore`, plus the header facts it carries. 32 bytes: a body
/// fits in 65,535 bytes (a DNS message does; the compile refuses larger answers), so lengths take 16 bits.
///
/// A rotating answer (`Rotation`) keeps its run as `rotationStart` and `rotationLength`, its `rotationCount`
/// points as 16-bit offsets (host byte order) right behind its body bytes, at `bodyStart + bodyLength`, and after
/// them the 16-bit `Rotation.kept` (bytes of the rotated run an answer holds; below `rotationLength` the answer
/// leaves out the rest of the run, which ends the body, and `answerCount` counts the records it holds); a body
/// with points never shares its bytes with another template's.
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
    /// Where the table's serial is written in the body (a live zone's SOA), or `noSerial`.
    var serialPosition: UInt16
    var rotationStart: UInt16 = 0
    var rotationLength: UInt16 = 0
    /// A wire name has at most 255 bytes.
    var referenceQnameLength: UInt8
    /// The header's 4 RCODE bits (`RCode.header`): a compiled answer never needs an extended RCODE.
    var rcode: UInt8
    var authoritative: Bool
    /// 0 or 1: the answer is served as compiled. At most 255 points (`Rotation.maxPoints`).
    var rotationCount: UInt8 = 0

    /// The bytes the template owns in the bytes section: its body, then its rotation points and kept length.
    var storedLength: Int { Int(bodyLength) + (rotationCount == 0 ? 0 : 2 * Int(rotationCount) + 2) }

    static let noSerial = UInt16.max
    /// The largest body a template holds: a message of 65,535 bytes less its header, the longest question and
    /// an OPT record.
    static let maxBodyLength = 65535 - 12 - 259 - 11
}

/// Compiled answers packed into flat arrays (no per-answer objects, nothing to retain per query). Each `add` and
/// `copy` makes a new template: the store compares no answers (`ShardPacker` gives one name's equal answers one
/// template; equal answers of two names are two templates).
struct TemplateStore: Sendable {
    var entries: [TemplateEntry] = []
    var bytes: [UInt8] = []
    var relocations: [Relocation] = []

    /// A body's bytes as stored: the body, then its rotation points and kept length.
    private static func stored(_ body: RenderedBody) -> [UInt8] {
        guard let rotation = body.rotation else { return body.bytes }
        var bytes = body.bytes
        for point in rotation.points { withUnsafeBytes(of: point) { bytes += $0 } }
        withUnsafeBytes(of: UInt16(rotation.kept)) { bytes += $0 }
        return bytes
    }

    /// Adds a compiled answer. With `host`, its body is the start of template `host`'s body, which it shares
    /// instead of repeating the bytes (ANY at a name with one type is that type's answer without the additional
    /// section: at a headless service's SRV name, 195 of 273 bytes).
    mutating func add(_ body: RenderedBody, sharingBytesOf host: Int32? = nil) -> Int32 {
        precondition(body.bytes.count <= TemplateEntry.maxBodyLength, "the compile refuses answers over 65,535 bytes")
        var entry = TemplateEntry(
            bodyStart: host.map { entries[Int($0)].bodyStart } ?? UInt32(bytes.count),
            relocationStart: UInt32(relocations.count),
            bodyLength: UInt16(body.bytes.count),
            trimmedLength: UInt16(body.trimmedLength),
            relocationCount: UInt16(body.relocations.count),
            answerCount: UInt16(body.answerCount),
            authorityCount: UInt16(body.authorityCount),
            additionalCount: UInt16(body.additionalCount),
            trimmedAdditionalCount: UInt16(body.trimmedAdditionalCount),
            serialPosition: body.serialPosition.map { UInt16($0) } ?? TemplateEntry.noSerial,
            rotationStart: UInt16(body.rotation?.start ?? 0),
            rotationLength: UInt16(body.rotation?.length ?? 0),
            referenceQnameLength: UInt8(body.referenceQnameLength),
            rcode: body.rcode.header,
            authoritative: body.authoritative,
            rotationCount: UInt8(body.rotation?.points.count ?? 0)
        )
        if let host, entry.rotationCount == 0, entries[Int(host)].rotationCount == 0 {
            let start = Int(entries[Int(host)].bodyStart)
            precondition(bytes[start..<(start + body.bytes.count)].elementsEqual(body.bytes), "a shared body is its host's start")
            entry.bodyStart = UInt32(start)
        } else {
            entry.bodyStart = UInt32(bytes.count)
            bytes += Self.stored(body)
        }
        relocations += body.relocations
        entries.append(entry)
        return Int32(entries.count - 1)
    }

    /// Copies template `index` of `shard` (bytes, relocations and header facts) and returns its index here.
    /// Relocation positions are relative to the body, so they copy unchanged. With `host` (a template copied here
    /// before, whose body starts with this one's), the bytes are shared again rather than copied.
    mutating func copy(_ index: Int, from shard: Shard, sharingBytesOf host: Int32? = nil) -> Int32 {
        let (found, body, relocationBase) = shard.template(index)
        var entry = found
        entry.relocationStart = UInt32(relocations.count)
        if let host, found.rotationCount == 0, entries[Int(host)].rotationCount == 0 {
            entry.bodyStart = entries[Int(host)].bodyStart
        } else {
            entry.bodyStart = UInt32(bytes.count)
            bytes.append(contentsOf: UnsafeRawBufferPointer(start: body.advanced(by: Int(found.bodyStart)),
                                                            count: found.storedLength))
        }
        let stride = MemoryLayout<Relocation>.stride
        for i in Int(found.relocationStart)..<(Int(found.relocationStart) + Int(found.relocationCount)) {
            relocations.append(relocationBase.load(fromByteOffset: i * stride, as: Relocation.self))
        }
        entries.append(entry)
        return Int32(entries.count - 1)
    }
}
