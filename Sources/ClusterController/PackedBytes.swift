/// Writes the packed form of a cached object: bytes, LEB128 varints and length-prefixed UTF-8 text.
/// `CachedSlice` and `CachedService` keep what the merge reads this way, in one heap array each, instead of
/// the arrays and strings of the decoded object (issue 3: memory per endpoint).
struct PackedWriter {
    private(set) var bytes: [UInt8] = []

    mutating func byte(_ value: UInt8) { bytes.append(value) }

    mutating func varint(_ value: Int) {
        var rest = UInt(bitPattern: value)
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func text(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            varint(utf8.count)
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func uint64(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// Exactly the bytes written: appends leave up to twice the room, and `Array(bytes)` would keep that buffer.
    func finish() -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: bytes.count) { buffer, count in
            count = buffer.initialize(fromContentsOf: bytes)
        }
    }
}

/// Reads what a `PackedWriter` wrote. Reading past the end gives zeros and empty text, never a trap: the
/// bytes come from our own writer, and a short read shows as a wrong value in the tests, not a crash.
struct PackedReader {
    let bytes: [UInt8]
    private(set) var at = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { at >= bytes.count }

    mutating func byte() -> UInt8 {
        guard at < bytes.count else { return 0 }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func varint() -> Int {
        var value: UInt = 0
        var shift: UInt = 0
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            if shift < UInt(UInt.bitWidth) { value |= UInt(byte & 0x7F) << shift }
            if byte < 0x80 { break }
            shift += 7
        }
        return Int(bitPattern: value)
    }

    mutating func text() -> String {
        let length = varint()
        let end = min(at + max(length, 0), bytes.count)
        defer { at = end }
        return String(decoding: bytes[at..<end], as: UTF8.self)
    }

    mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 8) { value |= UInt64(byte()) << UInt64(shift) }
        return value
    }
}
