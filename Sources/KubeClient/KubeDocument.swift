/// The objects of one document: a single object, or the `items` of a `List` (`kind: List` in manifests, or a
/// typed list such as `ServiceList` as the API server returns it).
public struct KubeDocument: Sendable, Hashable {
    /// An object of a kind mcdns does not read, kept for a debug log line.
    public struct Ignored: Sendable, Hashable, CustomStringConvertible {
        public var apiVersion: String
        public var kind: String
        public var name: String?
        public var line: Int?

        public var description: String {
            "\(apiVersion) \(kind)" + (name.map { " \($0)" } ?? "")
        }
    }

    public var objects: [KubeObject]
    public var ignored: [Ignored]

    public init(objects: [KubeObject] = [], ignored: [Ignored] = []) {
        self.objects = objects
        self.ignored = ignored
    }

    /// Decodes a document; any malformed object fails the whole document (a manifest file is then kept at its
    /// last good content), with the error's path naming the list item (`items[2].spec.ports[0].port`).
    public static func decode(_ value: KubeValue) throws(KubeDecodingError) -> KubeDocument {
        var document = KubeDocument()
        try document.add(value, path: "")
        return document
    }

    private mutating func add(_ value: KubeValue, path: String) throws(KubeDecodingError) {
        if value.content == .null { return }  // an empty YAML document (`---` with nothing after it)
        let reader: FieldReader
        do {
            reader = try FieldReader(value, path: "")
            if let listKind = try reader.string("kind"), listKind.hasSuffix("List"), reader.value("items") != nil {
                for (item, itemPath) in try reader.array("items") {
                    try add(item, path: itemPath)
                }
                return
            }
            if let object = try KubeObject.decode(value) {
                objects.append(object)
            } else {
                let metadata = try reader.object("metadata")
                ignored.append(
                    Ignored(
                        apiVersion: try reader.string("apiVersion") ?? "",
                        kind: try reader.string("kind") ?? "",
                        name: try metadata?.string("name"),
                        line: value.line
                    )
                )
            }
        } catch {
            throw path.isEmpty ? error : error.prefixed(by: path)
        }
    }
}
