import Foundation

/// One column of a CustomResourceDefinition's `additionalPrinterColumns`, as the apiserver's table convertor
/// uses it to answer `kubectl get` (Accept `application/json;as=Table;v=v1;g=meta.k8s.io`).
public struct SimPrinterColumn: Sendable, Equatable {
    public var name: String
    /// `string`, `integer`, `number`, `boolean` or `date` (a date is answered as an age, "5m", as the server does).
    public var type: String
    public var format: String
    public var description: String
    /// 0 is shown by default; above 0 only with `-o wide`.
    public var priority: Int
    /// The CRD's JSONPath: `.a.b` steps and `[?(@.key=="value")]` filters are understood.
    public var jsonPath: String

    public init(
        name: String,
        type: String,
        format: String = "",
        description: String = "",
        priority: Int = 0,
        jsonPath: String
    ) {
        self.name = name
        self.type = type
        self.format = format
        self.description = description
        self.priority = priority
        self.jsonPath = jsonPath
    }
}

/// Server-side printing for resources with printer columns: a list or one object as a `meta.k8s.io/v1` Table, the
/// first column the name, then the columns' values (the first match of each path; none is null), each row
/// carrying the object's metadata as a PartialObjectMetadata (the apiserver's default `includeObject=Metadata`).
enum SimTable {
    static let contentType = "application/json;as=Table;v=v1;g=meta.k8s.io"

    /// Whether the Accept header asks for a v1 Table (kubectl lists it first, with plain JSON as the fallback).
    static func wanted(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { part in
            let parameters = part.split(separator: ";").map { $0.trimmingSpaces }
            return parameters.contains("as=Table") && parameters.contains("v=v1")
                && parameters.contains("g=meta.k8s.io")
        }
    }

    /// The Table of a list answer (`items`, `metadata`) or of one object.
    static func table(_ answer: SimJSON, columns: [SimPrinterColumn], now: Date = Date()) -> SimJSON {
        let objects = answer["items"]?.arrayValue ?? [answer]
        var definitions: [SimJSON] = [
            .object([
                ("name", .string("Name")), ("type", .string("string")), ("format", .string("name")),
                ("description", .string("Name must be unique within a namespace.")), ("priority", .number("0")),
            ])
        ]
        for column in columns {
            definitions.append(
                .object([
                    ("name", .string(column.name)), ("type", .string(column.type)), ("format", .string(column.format)),
                    ("description", .string(column.description)), ("priority", .number(String(column.priority))),
                ])
            )
        }
        let rows: [SimJSON] = objects.map { object in
            var cells: [SimJSON] = [object["metadata"]?["name"] ?? .string("")]
            for column in columns {
                let value = evaluate(column.jsonPath, in: object).first ?? .null
                if column.type == "date", let text = value.stringValue, let date = parseTimestamp(text) {
                    cells.append(.string(age(now.timeIntervalSince(date))))
                } else {
                    cells.append(value)
                }
            }
            return .object([
                ("cells", .array(cells)),
                (
                    "object",
                    .object([
                        ("kind", .string("PartialObjectMetadata")), ("apiVersion", .string("meta.k8s.io/v1")),
                        ("metadata", object["metadata"] ?? .object([])),
                    ])
                ),
            ])
        }
        var metadata: [(String, SimJSON)] = []
        if answer["items"] != nil {
            metadata = answer["metadata"]?.objectMembers ?? []
        } else if let version = answer["metadata"]?["resourceVersion"] {
            metadata = [("resourceVersion", version)]
        }
        return .object([
            ("kind", .string("Table")), ("apiVersion", .string("meta.k8s.io/v1")), ("metadata", .object(metadata)),
            ("columnDefinitions", .array(definitions)), ("rows", .array(rows)),
        ])
    }

    /// Every value `path` leads to in `object`.
    static func evaluate(_ path: String, in object: SimJSON) -> [SimJSON] {
        var current: [SimJSON] = [object]
        var rest = Substring(path)
        while !rest.isEmpty {
            if rest.hasPrefix(".") {
                rest = rest.dropFirst()
                let end = rest.firstIndex { $0 == "." || $0 == "[" } ?? rest.endIndex
                let key = String(rest[..<end])
                rest = rest[end...]
                current = current.compactMap { $0[key] }
            } else if rest.hasPrefix("[?(@."), let close = rest.range(of: ")]") {
                // [?(@.key=="value")]
                let condition = rest[rest.index(rest.startIndex, offsetBy: 5)..<close.lowerBound]
                rest = rest[close.upperBound...]
                guard let equals = condition.range(of: "==") else { return [] }
                let key = String(condition[..<equals.lowerBound])
                let wanted = condition[equals.upperBound...].trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))
                current = current.flatMap { $0.arrayValue ?? [] }.filter { $0[key]?.stringValue == wanted }
            } else if rest.hasPrefix("[*]") {
                rest = rest.dropFirst(3)
                current = current.flatMap { $0.arrayValue ?? [] }
            } else {
                return []
            }
        }
        return current
    }

    private static func parseTimestamp(_ text: String) -> Date? {
        try? Date(text, strategy: .iso8601)
    }

    /// The apiserver's short age (`duration.HumanDuration`): "45s", "5m", "3h", "2d" and so on.
    static func age(_ seconds: TimeInterval) -> String {
        let whole = max(0, Int(seconds))
        if whole < 120 { return "\(whole)s" }
        let minutes = whole / 60
        if minutes < 10 { return whole % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(whole % 60)s" }
        if minutes < 180 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 { return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m" }
        if hours < 48 { return "\(hours)h" }
        let days = hours / 24
        if days < 8 { return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h" }
        if days < 365 * 2 { return "\(days)d" }
        return "\(days / 365)y"
    }
}
