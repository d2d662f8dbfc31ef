/// A parsed `labelSelector`: equality (`=`, `==`), `!=`, `in`, `notin`, existence (`key`) and absence (`!key`).
struct SimLabelSelector: Sendable {
    enum Requirement: Sendable {
        case equals(String, String)
        case notEquals(String, String)
        case isIn(String, Set<String>)
        case notIn(String, Set<String>)
        case exists(String)
        case doesNotExist(String)
    }

    var requirements: [Requirement] = []

    static let everything = SimLabelSelector()

    init() {}

    init(parsing text: String) throws(SimAPIError) {
        var parts: [String] = []
        var current = ""
        var depth = 0
        for character in text {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == ",", depth == 0 {
                parts.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        parts.append(current)
        for raw in parts {
            let part = raw.trimmingSpaces
            if part.isEmpty {
                if parts.count == 1 { break }
                throw Self.parseError(text, "empty requirement")
            }
            requirements.append(try Self.requirement(part, in: text))
        }
    }

    private static func requirement(_ part: String, in text: String) throws(SimAPIError) -> Requirement {
        if let range = part.range(of: "!=") {
            return .notEquals(try key(part[..<range.lowerBound], text), try value(part[range.upperBound...], text))
        }
        if let range = part.range(of: "==") {
            return .equals(try key(part[..<range.lowerBound], text), try value(part[range.upperBound...], text))
        }
        if let range = part.range(of: "=") {
            return .equals(try key(part[..<range.lowerBound], text), try value(part[range.upperBound...], text))
        }
        for (word, isIn) in [(" notin ", false), (" in ", true)] {
            if let range = part.range(of: word) {
                let name = try key(part[..<range.lowerBound], text)
                let rest = part[range.upperBound...].trimmingSpaces
                guard rest.hasPrefix("("), rest.hasSuffix(")") else {
                    throw parseError(text, "expected a parenthesised set of values after '\(word.trimmingSpaces)'")
                }
                var values: Set<String> = []
                for item in rest.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false) {
                    values.insert(try value(item, text))
                }
                return isIn ? .isIn(name, values) : .notIn(name, values)
            }
        }
        if part.hasPrefix("!") { return .doesNotExist(try key(part.dropFirst(), text)) }
        return .exists(try key(Substring(part), text))
    }

    private static func key(_ raw: Substring, _ text: String) throws(SimAPIError) -> String {
        let key = raw.trimmingSpaces
        let allowed = key.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || $0 == "-" || $0 == "_" || $0 == "." || $0 == "/"
        }
        guard !key.isEmpty, allowed else { throw parseError(text, "invalid label key \"\(key)\"") }
        return key
    }

    private static func value(_ raw: Substring, _ text: String) throws(SimAPIError) -> String {
        let value = raw.trimmingSpaces
        let allowed = value.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                || $0 == "-" || $0 == "_" || $0 == "."
        }
        guard allowed, value.count <= 63 else { throw parseError(text, "invalid label value: \"\(value)\"") }
        return value
    }

    private static func parseError(_ text: String, _ why: String) -> SimAPIError {
        SimStatus.badRequest("unable to parse requirement: \(why) in selector \"\(text)\"")
    }

    func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case let .equals(key, value): labels[key] == value
            case let .notEquals(key, value): labels[key] != value
            case let .isIn(key, values): labels[key].map(values.contains) ?? false
            case let .notIn(key, values): labels[key].map { !values.contains($0) } ?? true
            case let .exists(key): labels[key] != nil
            case let .doesNotExist(key): labels[key] == nil
            }
        }
    }
}

/// A parsed `fieldSelector`: `metadata.name` and `metadata.namespace` on every resource, and the resource's own
/// field labels (`SimResource.selectableFields`, e.g. `involvedObject.uid` on Events, which `kubectl describe`
/// uses), with `=`, `==` and `!=`. A field that is absent compares as "".
struct SimFieldSelector: Sendable {
    var requirements: [(path: [String], value: String, equal: Bool)] = []

    init() {}

    init(parsing text: String, resource: SimResource) throws(SimAPIError) {
        for raw in text.split(separator: ",") {
            let part = raw.trimmingSpaces
            let pieces: (Substring, Substring, Bool)
            if let range = part.range(of: "!=") {
                pieces = (part[..<range.lowerBound], part[range.upperBound...], false)
            } else if let range = part.range(of: "==") {
                pieces = (part[..<range.lowerBound], part[range.upperBound...], true)
            } else if let range = part.range(of: "=") {
                pieces = (part[..<range.lowerBound], part[range.upperBound...], true)
            } else {
                throw SimStatus.badRequest("invalid selector: '\(text)'; can't understand '\(part)'")
            }
            let field = pieces.0.trimmingSpaces
            let path: [String]
            switch field {
            case "metadata.name": path = ["metadata", "name"]
            case "metadata.namespace": path = ["metadata", "namespace"]
            default:
                guard let own = resource.selectableFields[field] else {
                    throw SimStatus.badRequest("field label not supported: \(field)")
                }
                path = own
            }
            requirements.append((path, pieces.1.trimmingSpaces, pieces.2))
        }
    }

    func matches(_ object: SimJSON) -> Bool {
        requirements.allSatisfy { requirement in
            var value: SimJSON? = object
            for key in requirement.path { value = value?[key] }
            return ((value?.stringValue ?? "") == requirement.value) == requirement.equal
        }
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first == " " { scalars = scalars.dropFirst() }
        while scalars.last == " " { scalars = scalars.dropLast() }
        return String(scalars)
    }
}
