/// Reads the fields of one mapping, producing errors that name the full field path and the source line.
///
/// Absent keys and explicit `null` are the same thing, as in Kubernetes' own decoding.
struct FieldReader {
    let fields: [String: KubeValue]
    let path: String
    let line: Int?

    init(_ value: KubeValue, path: String) throws(KubeDecodingError) {
        guard case .object(let fields) = value.content else {
            throw KubeDecodingError(
                path: path,
                line: value.line,
                problem: .wrongType(expected: "a mapping", found: value.kindDescription)
            )
        }
        self.fields = fields
        self.path = path
        self.line = value.line
    }

    func childPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func value(_ key: String) -> KubeValue? {
        guard let value = fields[key], value.content != .null else { return nil }
        return value
    }

    func missing(_ key: String) -> KubeDecodingError {
        KubeDecodingError(path: childPath(key), line: line, problem: .missingField)
    }

    func invalid(_ key: String, _ message: String, at value: KubeValue? = nil) -> KubeDecodingError {
        KubeDecodingError(path: childPath(key), line: value?.line ?? line, problem: .invalidValue(message))
    }

    func string(_ key: String) throws(KubeDecodingError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let string) = value.content else {
            throw wrongType(key, value, expected: "a string")
        }
        return string
    }

    func requiredString(_ key: String) throws(KubeDecodingError) -> String {
        guard let string = try string(key) else { throw missing(key) }
        guard !string.isEmpty else { throw invalid(key, "must not be empty", at: value(key)) }
        return string
    }

    func int(_ key: String) throws(KubeDecodingError) -> Int? {
        guard let value = value(key) else { return nil }
        switch value.content {
        case .int(let int):
            return int
        case .double(let double) where double.rounded() == double && abs(double) < 1e15:
            // JSON has one number type; an integral float is an integer.
            return Int(double)
        default:
            throw wrongType(key, value, expected: "an integer")
        }
    }

    func bool(_ key: String) throws(KubeDecodingError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let bool) = value.content else {
            throw wrongType(key, value, expected: "a boolean (true or false, unquoted)")
        }
        return bool
    }

    func object(_ key: String) throws(KubeDecodingError) -> FieldReader? {
        guard let value = value(key) else { return nil }
        return try FieldReader(value, path: childPath(key))
    }

    /// The elements of a list field with their paths (`spec.ports[0]`); absent = empty.
    func array(_ key: String) throws(KubeDecodingError) -> [(value: KubeValue, path: String)] {
        guard let value = value(key) else { return [] }
        guard case .array(let items) = value.content else {
            throw wrongType(key, value, expected: "a list")
        }
        let base = childPath(key)
        return items.enumerated().map { (index, item) in (item, "\(base)[\(index)]") }
    }

    func stringArray(_ key: String) throws(KubeDecodingError) -> [String] {
        var strings: [String] = []
        for (item, itemPath) in try array(key) {
            guard case .string(let string) = item.content else {
                throw KubeDecodingError(
                    path: itemPath,
                    line: item.line ?? line,
                    problem: .wrongType(expected: "a string", found: item.kindDescription)
                )
            }
            strings.append(string)
        }
        return strings
    }

    /// A `map[string]string` such as labels or annotations, keeping only the keys `keep` accepts.
    func stringMap(_ key: String, keep: (String) -> Bool) throws(KubeDecodingError) -> [String: String] {
        guard let map = try object(key) else { return [:] }
        var result: [String: String] = [:]
        for (name, value) in map.fields where keep(name) {
            guard case .string(let string) = value.content else {
                // A common slip: `mcdns.io/export: true` is a YAML boolean; Kubernetes wants the string "true".
                throw KubeDecodingError(
                    path: "\(map.path)[\(name)]",
                    line: value.line ?? map.line,
                    problem: .wrongType(
                        expected: "a string (quote the value)",
                        found: value.kindDescription
                    )
                )
            }
            result[name] = string
        }
        return result
    }

    private func wrongType(_ key: String, _ value: KubeValue, expected: String) -> KubeDecodingError {
        KubeDecodingError(
            path: childPath(key),
            line: value.line ?? line,
            problem: .wrongType(expected: expected, found: value.kindDescription)
        )
    }
}
