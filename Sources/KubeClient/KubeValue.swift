/// A generic document value: what a YAML or JSON parser produces, before it is read as a Kubernetes object.
///
/// The object decoders read this tree, not YAML or JSON, so the manifest source (YAML, through Yams) and the API
/// client (JSON) share one decoder and one set of error messages. `line` carries the source position when the
/// parser knows it (YAML does, JSON does not), so errors can point at `file:line`.
public struct KubeValue: Sendable, Hashable {
    public enum Content: Sendable, Hashable {
        case null
        case bool(Bool)
        case int(Int)
        case double(Double)
        case string(String)
        case array([KubeValue])
        case object([String: KubeValue])
    }

    public var content: Content
    /// 1-based line of the value in its source document, when known.
    public var line: Int?

    public init(_ content: Content, line: Int? = nil) {
        self.content = content
        self.line = line
    }

    /// A short description of the value's type for error messages ("string \"80\"", "integer 80", "a mapping").
    var kindDescription: String {
        switch content {
        case .null: return "null"
        case .bool(let value): return "boolean \(value)"
        case .int(let value): return "integer \(value)"
        case .double(let value): return "number \(value)"
        case .string(let value):
            let shown = value.count > 40 ? String(value.prefix(40)) + "…" : value
            return "string \"\(shown)\""
        case .array: return "a list"
        case .object: return "a mapping"
        }
    }
}

extension KubeValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral
{
    // Literals keep tests and in-process generators (benchmarks) short; they carry no line.
    public init(stringLiteral value: String) { self.init(.string(value)) }
    public init(integerLiteral value: Int) { self.init(.int(value)) }
    public init(booleanLiteral value: Bool) { self.init(.bool(value)) }
    public init(floatLiteral value: Double) { self.init(.double(value)) }
    public init(nilLiteral: ()) { self.init(.null) }
    public init(arrayLiteral elements: KubeValue...) { self.init(.array(elements)) }
    public init(dictionaryLiteral elements: (String, KubeValue)...) {
        self.init(.object(Dictionary(elements, uniquingKeysWith: { _, last in last })))
    }
}
