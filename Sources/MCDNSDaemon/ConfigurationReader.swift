import DNSWire
import Yams

/// The entries of one YAML mapping, with the place it came from.
struct YAMLFields {
    /// Dotted path of the mapping (`locality.requesters`), "" for the document root.
    let path: String
    /// The line of the key that holds this mapping: where "missing key" problems are reported.
    let line: Int?
    let entries: [String: (key: Node, value: Node)]

    func path(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }
    subscript(key: String) -> Node? { entries[key]?.value }
    func line(of key: String) -> Int? { entries[key]?.key.mark?.line ?? line }
    /// True when `key` is present with a value; `key:` alone (null) means "the default", as if it were absent.
    func isSet(_ key: String) -> Bool { entries[key].map { !ConfigurationReader.isNull($0.value) } ?? false }
}

/// Turns a composed YAML `Node` tree into typed values by hand, so that every problem names the line it is on.
/// Problems are collected, not thrown: a reader returns nil for a value it could not read and carries on.
struct ConfigurationReader {
    let file: String
    /// Relative paths in the document are resolved against this directory.
    let directory: String
    private(set) var errors: [SourceError] = []

    init(file: String, directory: String) {
        self.file = file
        self.directory = directory
    }

    mutating func fail(_ line: Int?, _ path: String, _ message: String) {
        errors.append(SourceError(file: file, line: line, message: path.isEmpty ? message : "\(path): \(message)"))
    }

    // MARK: Structure

    /// Reads a mapping and reports every key not in `allowed`. An absent or null node is an empty mapping.
    mutating func fields(_ node: Node?, path: String, line: Int?, allowed: [String]) -> YAMLFields? {
        guard let node, !ConfigurationReader.isNull(node) else {
            return YAMLFields(path: path, line: line, entries: [:])
        }
        guard case .mapping(let mapping) = node else {
            fail(
                node.mark?.line ?? line,
                path,
                "expected a mapping with keys \(allowed.joined(separator: ", ")), "
                    + "found \(ConfigurationReader.describe(node))"
            )
            return nil
        }
        var entries: [String: (key: Node, value: Node)] = [:]
        for (key, value) in mapping {
            guard case .scalar(let scalar) = key else {
                fail(
                    key.mark?.line ?? line,
                    path,
                    "keys must be plain words, found \(ConfigurationReader.describe(key))"
                )
                continue
            }
            let name = scalar.string
            guard allowed.contains(name) else {
                var message = "unknown key \"\(name)\""
                if let suggestion = ConfigurationReader.suggestion(for: name, among: allowed) {
                    message += "; did you mean \"\(suggestion)\"?"
                } else {
                    message += "; expected one of: \(allowed.joined(separator: ", "))"
                }
                fail(key.mark?.line, path, message)
                continue
            }
            entries[name] = (key, value)
        }
        return YAMLFields(path: path, line: line, entries: entries)
    }

    /// The fields of a sub-mapping `key` of `fields`.
    mutating func fields(_ fields: YAMLFields, _ key: String, allowed: [String]) -> YAMLFields? {
        self.fields(fields[key], path: fields.path(key), line: fields.line(of: key), allowed: allowed)
    }

    /// The items of a list; absent or null is an empty list. Each item comes with its path (`clusters[2]`).
    mutating func list(_ fields: YAMLFields, _ key: String) -> [(node: Node, path: String)]? {
        guard let node = fields[key], !ConfigurationReader.isNull(node) else { return [] }
        let path = fields.path(key)
        guard case .sequence(let sequence) = node else {
            fail(node.mark?.line, path, "expected a list, found \(ConfigurationReader.describe(node))")
            return nil
        }
        return sequence.enumerated().map { ($0.element, "\(path)[\($0.offset)]") }
    }

    // MARK: Scalars

    /// The text of a scalar; nil when absent or null (no problem recorded) or not a scalar (problem recorded).
    mutating func text(_ node: Node?, path: String) -> String? {
        guard let node, !ConfigurationReader.isNull(node) else { return nil }
        guard case .scalar(let scalar) = node else {
            fail(node.mark?.line, path, "expected a single value, found \(ConfigurationReader.describe(node))")
            return nil
        }
        return scalar.string
    }

    mutating func string(_ fields: YAMLFields, _ key: String) -> String? {
        guard let value = text(fields[key], path: fields.path(key)) else { return nil }
        guard !value.isEmpty else {
            fail(fields.line(of: key), fields.path(key), "must not be empty")
            return nil
        }
        return value
    }

    mutating func int(_ fields: YAMLFields, _ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let value = text(fields[key], path: fields.path(key)) else { return nil }
        guard let number = Int(value) else {
            fail(fields[key]?.mark?.line, fields.path(key), "expected a whole number, found \"\(value)\"")
            return nil
        }
        guard range.contains(number) else {
            fail(
                fields[key]?.mark?.line,
                fields.path(key),
                "\(number) is out of range (\(range.lowerBound) to \(range.upperBound))"
            )
            return nil
        }
        return number
    }

    mutating func bool(_ fields: YAMLFields, _ key: String) -> Bool? {
        guard let value = text(fields[key], path: fields.path(key)) else { return nil }
        switch value.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default:
            fail(fields[key]?.mark?.line, fields.path(key), "expected true or false, found \"\(value)\"")
            return nil
        }
    }

    mutating func duration(_ fields: YAMLFields, _ key: String) -> Duration? {
        guard let value = text(fields[key], path: fields.path(key)) else { return nil }
        guard let duration = DurationText.parse(value) else {
            fail(
                fields[key]?.mark?.line,
                fields.path(key),
                "\"\(value)\" is not a duration (\(DurationText.example))"
            )
            return nil
        }
        return duration
    }

    /// A path, resolved against the config file's directory. `mustExist` checks that it is there now, since a
    /// missing file found at startup is kinder than one found when a member first connects.
    mutating func path(_ fields: YAMLFields, _ key: String, mustExist: PathKind? = nil) -> String? {
        guard let value = string(fields, key) else { return nil }
        let resolved = ConfigurationPath.resolve(value, against: directory)
        if let mustExist {
            checkExists(resolved, kind: mustExist, line: fields[key]?.mark?.line, path: fields.path(key))
        }
        return resolved
    }

    enum PathKind {
        case file, directory
    }

    mutating func checkExists(_ resolved: String, kind: PathKind, line: Int?, path: String) {
        switch (FileSystem.kind(of: resolved), kind) {
        case (.file, .file), (.directory, .directory): return
        case (.missing, _): fail(line, path, "\(resolved) does not exist")
        case (.file, .directory): fail(line, path, "\(resolved) is a file, expected a directory")
        case (.directory, .file): fail(line, path, "\(resolved) is a directory, expected a file")
        }
    }

    /// A single DNS label (RFC 1123: lower-case letters, digits and inner hyphens, 1 to 63 bytes), as cluster,
    /// federation, region and zone names all become labels of DNS names.
    mutating func label(_ node: Node?, path: String) -> String? {
        guard let value = text(node, path: path) else { return nil }
        guard ConfigurationReader.isLabel(value) else {
            fail(
                node?.mark?.line,
                path,
                "\"\(value)\" is not a DNS label (1 to 63 lower-case letters, digits or inner hyphens)"
            )
            return nil
        }
        return value
    }

    mutating func domainName(_ fields: YAMLFields, _ key: String) -> DomainName? {
        guard let value = string(fields, key) else { return nil }
        do {
            let name = try DomainName(value)
            guard !name.isRoot else {
                fail(fields[key]?.mark?.line, fields.path(key), "the root zone cannot be served here")
                return nil
            }
            return name
        } catch {
            fail(fields[key]?.mark?.line, fields.path(key), error.description)
            return nil
        }
    }

    mutating func listenAddress(_ node: Node?, path: String) -> Configuration.ListenAddress? {
        guard let value = text(node, path: path) else { return nil }
        do {
            return try Configuration.ListenAddress(parsing: value)
        } catch {
            fail(node?.mark?.line, path, error.message)
            return nil
        }
    }

    mutating func stringList(_ fields: YAMLFields, _ key: String, labels: Bool) -> [String]? {
        guard let items = list(fields, key) else { return nil }
        var result: [String] = []
        var failed = false
        for item in items {
            let value = labels ? label(item.node, path: item.path) : text(item.node, path: item.path)
            if let value { result.append(value) } else { failed = true }
        }
        return failed ? nil : result
    }

    // MARK: Helpers

    static func isNull(_ node: Node) -> Bool {
        if case .scalar(let scalar) = node, scalar.style == .plain,
            ["", "~", "null", "Null", "NULL"].contains(scalar.string)
        {
            return true
        }
        return false
    }

    static func describe(_ node: Node) -> String {
        switch node {
        case .mapping: return "a mapping"
        case .sequence: return "a list"
        case .scalar(let scalar): return "\"\(scalar.string)\""
        case .alias: return "an alias"
        }
    }

    static func isLabel(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...63).contains(bytes.count), bytes.first != UInt8(ascii: "-"), bytes.last != UInt8(ascii: "-") else {
            return false
        }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-")
        }
    }

    /// The allowed key closest to a misspelt one (same letters ignoring case, or at most two edits away).
    static func suggestion(for key: String, among allowed: [String]) -> String? {
        if let match = allowed.first(where: { $0.lowercased() == key.lowercased() }) { return match }
        let scored = allowed.map { ($0, editDistance(Array(key.lowercased()), Array($0.lowercased()))) }
        guard let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= 2 else { return nil }
        return best.0
    }

    private static func editDistance(_ a: [Character], _ b: [Character]) -> Int {
        var previous = Array(0...b.count)
        for (i, ca) in a.enumerated() {
            var current = [i + 1]
            for (j, cb) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (ca == cb ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }
}
