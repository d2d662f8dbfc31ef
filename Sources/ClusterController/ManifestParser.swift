internal import Yams
public import KubeClient

/// Reads a manifest file: YAML with any number of documents (`---`), each an object or a `kind: List`.
///
/// Yams' composed nodes carry line marks; they are copied into `KubeValue.line` so that a malformed object is
/// reported at its line, not only its file.
public enum ManifestParser {
    /// `budget` is checked before Yams composes the text (see `YAMLBudget`): a document over it is an error at
    /// its line, and the directory keeps the file's last good content.
    public static func parse(
        _ text: String,
        file: String,
        budget: YAMLBudget = .manifest
    ) throws(ManifestError) -> KubeDocument {
        try budget.check(text, file: file)
        var document = KubeDocument()
        var roots: [Node] = []
        do {
            var sequence = try Yams.compose_all(yaml: text)
            while let node = sequence.next() { roots.append(node) }
            if let error = sequence.error { throw error }
        } catch {
            throw yamlError(error, file: file)
        }
        for root in roots {
            let value = try convert(root, file: file)
            do {
                let part = try KubeDocument.decode(value)
                document.objects += part.objects
                document.ignored += part.ignored
            } catch {
                throw ManifestError(file: file, line: error.line ?? root.mark?.line, message: error.description)
            }
        }
        return document
    }

    private static func yamlError(_ error: any Error, file: String) -> ManifestError {
        guard let yaml = error as? YamlError else {
            return ManifestError(file: file, line: nil, message: "\(error)")
        }
        switch yaml {
        case .scanner(let context, let problem, let mark, _),
            .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let contextText = context.map { "\($0.text) (line \($0.mark.line)): " } ?? ""
            return ManifestError(file: file, line: mark.line, message: "YAML syntax: \(contextText)\(problem)")
        case .reader(let problem, _, _, _):
            return ManifestError(file: file, line: nil, message: "YAML: \(problem)")
        case .duplicatedKeysInMapping(let duplicates, let context):
            return ManifestError(
                file: file,
                line: context.mark.line,
                message: "YAML: duplicate keys \(duplicates.joined(separator: ", "))"
            )
        default:
            return ManifestError(file: file, line: nil, message: "YAML: \(yaml)")
        }
    }

    private static func convert(_ node: Node, file: String) throws(ManifestError) -> KubeValue {
        let line = node.mark?.line
        switch node {
        case .scalar(let scalar):
            return KubeValue(scalarContent(scalar, node: node), line: line)
        case .sequence(let sequence):
            var items: [KubeValue] = []
            items.reserveCapacity(sequence.count)
            for item in sequence { items.append(try convert(item, file: file)) }
            return KubeValue(.array(items), line: line)
        case .mapping(let mapping):
            var fields: [String: KubeValue] = [:]
            fields.reserveCapacity(mapping.count)
            for (key, value) in mapping {
                guard case .scalar(let keyScalar) = key else {
                    throw ManifestError(
                        file: file,
                        line: key.mark?.line ?? line,
                        message: "mapping keys must be plain strings"
                    )
                }
                fields[keyScalar.string] = try convert(value, file: file)
            }
            return KubeValue(.object(fields), line: line)
        case .alias:
            // The composer replaces aliases by their anchored nodes; a bare alias here means a Yams change.
            throw ManifestError(file: file, line: line, message: "YAML aliases are not supported here")
        }
    }

    /// The scalar's value by its resolved YAML tag (so `80` is an integer and `"80"` a string, as in Kubernetes).
    ///
    /// A number written with colons (YAML 1.1's base 60: `1:30` for 90) stays text (`YAMLValues` says why).
    private static func scalarContent(_ scalar: Node.Scalar, node: Node) -> KubeValue.Content {
        if YAMLValues.isBaseSixty(scalar.string) { return .string(scalar.string) }
        switch node.tag.description {
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue:
            if let bool = node.bool { return .bool(bool) }
        case Tag.Name.int.rawValue:
            if let int = node.int { return .int(int) }
        case Tag.Name.float.rawValue:
            if let double = node.float { return .double(double) }
        default:
            break
        }
        // Strings, timestamps (Kubernetes keeps them as RFC 3339 text) and anything unusual stay text.
        return .string(scalar.string)
    }
}
