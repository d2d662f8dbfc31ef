internal import CYaml

/// Limits a YAML text must keep before it is composed: its size, its nesting depth, and the number of nodes it
/// stands for once every alias is expanded.
///
/// Aliases make a small text stand for a huge tree ("billion laughs": ten levels of nine aliases is 576 bytes
/// and 3.4 billion nodes). Yams replaces each alias by its anchored node when composing, and everything after it
/// (hashing mapping keys for duplicates, converting nodes to values) walks the expanded tree, so the check runs
/// first, over libyaml's event stream: O(text) time and memory whatever the aliases say. Each node is counted
/// once where it is written and, for an alias, by the expanded size of its anchor.
public struct YAMLBudget: Sendable, Equatable {
    /// The largest text, in bytes.
    public var maxBytes: Int
    /// The largest number of nodes (scalars and collections), counting each alias as the nodes it expands to.
    public var maxNodes: Int
    /// The deepest nesting of collections.
    public var maxDepth: Int

    public init(maxBytes: Int, maxNodes: Int, maxDepth: Int) {
        self.maxBytes = maxBytes
        self.maxNodes = maxNodes
        self.maxDepth = maxDepth
    }

    /// A manifest file: 16 MiB, 1,000,000 expanded nodes, depth 64.
    public static let manifest = YAMLBudget(maxBytes: 16 << 20, maxNodes: 1_000_000, maxDepth: 64)
    /// `mcdns.yaml`: 1 MiB, 100,000 expanded nodes, depth 32.
    public static let configuration = YAMLBudget(maxBytes: 1 << 20, maxNodes: 100_000, maxDepth: 32)

    /// Throws at the first limit `text` goes over, with its 1-based line. Syntax errors are left to Yams, which
    /// reports them better: the check stops quietly at the first one.
    public func check(_ text: String, file: String) throws(ManifestError) {
        let size = text.utf8.count
        guard size <= maxBytes else {
            throw ManifestError(
                file: file,
                line: nil,
                message: "YAML of \(size) bytes is larger than the limit of \(maxBytes) bytes; split it into files"
            )
        }
        var copy = text
        let failure: ManifestError? = copy.withUTF8 { bytes in scan(bytes, file: file) }
        if let failure { throw failure }
    }

    private func scan(_ bytes: UnsafeBufferPointer<UInt8>, file: String) -> ManifestError? {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else {
            return ManifestError(file: file, line: nil, message: "YAML: cannot start the parser (out of memory?)")
        }
        defer { yaml_parser_delete(&parser) }
        yaml_parser_set_input_string(&parser, bytes.baseAddress, bytes.count)
        // Expanded nodes so far; each open collection remembers the count at its start, so that at its end the
        // difference is its own expanded size, which an anchor on it then stands for.
        var expanded = 0
        var open: [(anchor: String?, startedAt: Int)] = []
        var anchors: [String: Int] = [:]
        var event = yaml_event_t()
        while true {
            guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
            defer { yaml_event_delete(&event) }
            let line = Int(event.start_mark.line) + 1
            switch event.type {
            case YAML_STREAM_END_EVENT:
                return nil
            case YAML_SCALAR_EVENT:
                expanded += 1
                if let anchor = Self.text(event.data.scalar.anchor) { anchors[anchor] = 1 }
            case YAML_ALIAS_EVENT:
                // An unknown alias is Yams' error to report; it expands to nothing here.
                let size = Self.text(event.data.alias.anchor).flatMap { anchors[$0] } ?? 0
                expanded = expanded > maxNodes - size ? maxNodes + 1 : expanded + size
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor =
                    event.type == YAML_SEQUENCE_START_EVENT
                    ? Self.text(event.data.sequence_start.anchor) : Self.text(event.data.mapping_start.anchor)
                open.append((anchor, expanded))
                expanded += 1
                guard open.count <= maxDepth else {
                    return ManifestError(
                        file: file,
                        line: line,
                        message: "YAML nested more than \(maxDepth) levels deep"
                    )
                }
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                if let collection = open.popLast(), let anchor = collection.anchor {
                    anchors[anchor] = expanded - collection.startedAt
                }
            default:
                break
            }
            guard expanded <= maxNodes else {
                return ManifestError(
                    file: file,
                    line: line,
                    message: "YAML expands to more than \(maxNodes) nodes (aliases multiply what they point at); "
                        + "write it without so many aliases, or split it into files"
                )
            }
        }
    }

    private static func text(_ pointer: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        guard let pointer else { return nil }
        return String(cString: pointer)
    }
}
