/// A domain name held in wire form (length-prefixed labels, ending with the root label).
///
/// Equality and hashing are case-insensitive (RFC 4343): both use the lower-cased wire form, `key`.
/// `wire` keeps the case as written, for presentation.
public struct DomainName: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let maxWireLength = 255
    public static let maxLabelLength = 63
    public static let root = DomainName(uncheckedWire: [0])

    /// The name as written, in wire form.
    public let wire: [UInt8]
    /// The lower-cased wire form: what lookups, equality and hashing use.
    public let key: [UInt8]

    init(uncheckedWire wire: [UInt8]) {
        self.wire = wire
        // Most names are lower-case already (every name mcdns makes from records is): then the key shares the
        // wire form's storage instead of holding a second copy (a million live names, DESIGN §7).
        self.key = wire.contains { $0 >= 0x41 && $0 <= 0x5A } ? wire.map(DomainName.lower) : wire
    }

    /// Reads a name in wire form; the bytes must be exactly one uncompressed name.
    public init(wire: [UInt8]) throws(WireError) {
        var offset = 0
        while true {
            guard offset < wire.count else { throw .invalidName("\(wire)", reason: "missing root label") }
            let length = Int(wire[offset])
            if length == 0 { break }
            guard length <= DomainName.maxLabelLength else {
                throw .invalidName("\(wire)", reason: "label longer than 63 bytes")
            }
            offset += 1 + length
        }
        guard offset + 1 == wire.count else { throw .invalidName("\(wire)", reason: "bytes after the root label") }
        guard wire.count <= DomainName.maxWireLength else {
            throw .invalidName("\(wire)", reason: "name longer than 255 bytes")
        }
        self.init(uncheckedWire: wire)
    }

    /// Reads a name in presentation form (`www.example.com.`); a name without the final dot is taken as absolute.
    /// `\.` and `\DDD` escapes are understood.
    public init(_ text: String) throws(WireError) {
        if text == "." || text.isEmpty { self = .root; return }
        var wire: [UInt8] = []
        var label: [UInt8] = []
        let bytes = Array(text.utf8)
        var index = 0
        func closeLabel() throws(WireError) {
            guard !label.isEmpty else { throw .invalidName(text, reason: "empty label") }
            guard label.count <= DomainName.maxLabelLength else {
                throw .invalidName(text, reason: "label longer than 63 bytes")
            }
            wire.append(UInt8(label.count))
            wire.append(contentsOf: label)
            label.removeAll(keepingCapacity: true)
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: ".") {
                try closeLabel()
                index += 1
                if index == bytes.count { break }
                continue
            }
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { throw .invalidName(text, reason: "dangling escape") }
                let next = bytes[index + 1]
                if next >= UInt8(ascii: "0") && next <= UInt8(ascii: "9") {
                    guard index + 3 < bytes.count + 0, index + 3 <= bytes.count - 0 else {
                        throw .invalidName(text, reason: "short \\DDD escape")
                    }
                    let digits = bytes[(index + 1)...(index + 3)]
                    guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
                        throw .invalidName(text, reason: "bad \\DDD escape")
                    }
                    let value = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
                    guard value <= 255 else { throw .invalidName(text, reason: "\\DDD escape over 255") }
                    label.append(UInt8(value))
                    index += 4
                } else {
                    label.append(next)
                    index += 2
                }
                continue
            }
            label.append(byte)
            index += 1
        }
        if !label.isEmpty { try closeLabel() }
        wire.append(0)
        guard wire.count <= DomainName.maxWireLength else {
            throw .invalidName(text, reason: "name longer than 255 bytes")
        }
        self.init(uncheckedWire: wire)
    }

    /// The labels, leftmost first, as written.
    public var labels: [[UInt8]] {
        var result: [[UInt8]] = []
        var offset = 0
        while wire[offset] != 0 {
            let length = Int(wire[offset])
            result.append(Array(wire[(offset + 1)...(offset + length)]))
            offset += 1 + length
        }
        return result
    }

    public var labelCount: Int {
        var count = 0
        var offset = 0
        while wire[offset] != 0 {
            count += 1
            offset += 1 + Int(wire[offset])
        }
        return count
    }

    public var isRoot: Bool { wire.count == 1 }
    public var isWildcard: Bool { wire.count >= 2 && wire[0] == 1 && wire[1] == UInt8(ascii: "*") }

    /// The name without its leftmost label; nil for the root.
    public var parent: DomainName? {
        guard !isRoot else { return nil }
        return DomainName(uncheckedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// `label.self`.
    public func prepending(_ label: String) throws(WireError) -> DomainName {
        let bytes = Array(label.utf8)
        guard !bytes.isEmpty, bytes.count <= DomainName.maxLabelLength else {
            throw .invalidName(label, reason: "label must be 1 to 63 bytes")
        }
        guard wire.count + bytes.count + 1 <= DomainName.maxWireLength else {
            throw .invalidName(label + "." + description, reason: "name longer than 255 bytes")
        }
        return DomainName(uncheckedWire: [UInt8(bytes.count)] + bytes + wire)
    }

    /// True when `self` equals `other` or lies below it (case-insensitive).
    public func isSubdomain(of other: DomainName) -> Bool {
        guard key.count >= other.key.count else { return false }
        let start = key.count - other.key.count
        guard key[start...].elementsEqual(other.key) else { return false }
        // The suffix must begin at a label boundary.
        var offset = 0
        while offset < start { offset += 1 + Int(key[offset]) }
        return offset == start
    }

    public var description: String {
        if isRoot { return "." }
        var text = ""
        var offset = 0
        while wire[offset] != 0 {
            let length = Int(wire[offset])
            for byte in wire[(offset + 1)...(offset + length)] {
                switch byte {
                case UInt8(ascii: "."), UInt8(ascii: "\\"), UInt8(ascii: "\""), UInt8(ascii: "("), UInt8(ascii: ")"),
                    UInt8(ascii: ";"), UInt8(ascii: "@"), UInt8(ascii: "$"):
                    text.append("\\")
                    text.append(Character(Unicode.Scalar(byte)))
                case 0x21...0x7E:
                    text.append(Character(Unicode.Scalar(byte)))
                default:
                    let digits = String(byte)
                    text.append("\\" + String(repeating: "0", count: 3 - digits.count) + digits)
                }
            }
            text.append(".")
            offset += 1 + length
        }
        return text
    }

    public static func == (lhs: DomainName, rhs: DomainName) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(key) }

    /// Canonical DNS order (RFC 4034 §6.1): by labels from the right, each compared as lower-case bytes.
    public static func < (lhs: DomainName, rhs: DomainName) -> Bool {
        let l = lhs.lowerLabels.reversed(), r = rhs.lowerLabels.reversed()
        for (a, b) in zip(l, r) where a != b { return a.lexicographicallyPrecedes(b) }
        return l.count < r.count
    }

    var lowerLabels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var offset = 0
        while key[offset] != 0 {
            let length = Int(key[offset])
            result.append(key[(offset + 1)...(offset + length)])
            offset += 1 + length
        }
        return result
    }

    @inline(__always)
    public static func lower(_ byte: UInt8) -> UInt8 {
        byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
    }
}
