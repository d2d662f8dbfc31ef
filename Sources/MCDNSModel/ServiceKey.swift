/// A Service's identity across clusters: the same namespace and name in every member is the same service (MCS
/// "namespace sameness").
///
/// Both parts live in one string, the namespace's length first (`5:benchweb` is bench/web): 16 bytes, not two
/// strings' 32. Keys fill the buckets of every service-keyed dictionary (the controller's caches, its published
/// records, the DNS side's records and numbers), up to 2.6 buckets an entry. A short key (up to 15 bytes in all)
/// is held inline, with no allocation. The length prefix, unlike a separator, cannot
/// be confused with a character of either part.
public struct ServiceKey: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    private var packed: String

    public init(namespace: String, name: String) {
        // Made from bytes, not interpolated: an interpolated string keeps a heap buffer with room to spare even
        // when it would fit inline, which cost every key an allocation.
        var bytes = Array(String(namespace.utf8.count).utf8)
        bytes.append(UInt8(ascii: ":"))
        bytes += namespace.utf8
        bytes += name.utf8
        packed = String(decoding: bytes, as: UTF8.self)
    }

    /// The namespace and the name, as views into the packed string (nothing is allocated).
    private var parts: (namespace: Substring, name: Substring) {
        let utf8 = packed.utf8
        var length = 0
        var index = utf8.startIndex
        while index != utf8.endIndex, utf8[index] != UInt8(ascii: ":") {
            length = length * 10 + Int(utf8[index] - UInt8(ascii: "0"))
            index = utf8.index(after: index)
        }
        let start = utf8.index(after: index)
        let split = utf8.index(start, offsetBy: length)
        return (Substring(utf8[start..<split]), Substring(utf8[split...]))
    }

    public var namespace: String {
        get { String(parts.namespace) }
        set { self = ServiceKey(namespace: newValue, name: name) }
    }

    public var name: String {
        get { String(parts.name) }
        set { self = ServiceKey(namespace: namespace, name: newValue) }
    }

    public var description: String {
        let (namespace, name) = parts
        return "\(namespace)/\(name)"
    }

    public static func < (lhs: ServiceKey, rhs: ServiceKey) -> Bool {
        let (left, right) = (lhs.parts, rhs.parts)
        return left.namespace != right.namespace ? left.namespace < right.namespace : left.name < right.name
    }

    private enum CodingKeys: String, CodingKey {
        case namespace, name
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(namespace: try container.decode(String.self, forKey: .namespace),
                  name: try container.decode(String.self, forKey: .name))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(namespace, forKey: .namespace)
        try container.encode(name, forKey: .name)
    }
}
