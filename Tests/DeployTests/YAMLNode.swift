import Yams

/// Read-only access into a decoded YAML document (what `Yams.load_all` returns): `node["spec"]["ports"][0]`.
/// A missing key or a wrong type gives an empty node instead of a crash, so a check fails with a message.
struct YAMLNode: CustomStringConvertible {
    let value: Any?

    init(_ value: Any?) { self.value = value }

    subscript(key: String) -> YAMLNode { YAMLNode((value as? [String: Any])?[key]) }
    subscript(index: Int) -> YAMLNode {
        guard let array = value as? [Any], array.indices.contains(index) else { return YAMLNode(nil) }
        return YAMLNode(array[index])
    }

    var exists: Bool { value != nil }
    var string: String? { value as? String }
    var int: Int? { value as? Int }
    var bool: Bool? { value as? Bool }
    var array: [YAMLNode] { (value as? [Any])?.map(YAMLNode.init) ?? [] }
    var strings: [String] { array.compactMap(\.string) }
    var mapping: [String: YAMLNode] { ((value as? [String: Any]) ?? [:]).mapValues(YAMLNode.init) }
    var keys: [String] { ((value as? [String: Any]) ?? [:]).keys.sorted() }

    var description: String { value.map { "\($0)" } ?? "(absent)" }

    /// Every document of a multi-document YAML text (empty documents dropped).
    static func documents(_ text: String) throws -> [YAMLNode] {
        try Yams.load_all(yaml: text).compactMap { $0 }.map(YAMLNode.init)
    }
}
