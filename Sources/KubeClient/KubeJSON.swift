/// Decoding of API server JSON into the slim projections.
///
/// List pages and watch events, the bulk of what the API server sends, go through `KubeJSONParser` straight into
/// `KubeValue` (`fields`, `decode(fields:as:)`), as do error bodies and the write client's responses.
/// `managedFields` (often most of an object's size) is dropped before an object is decoded, and list
/// items, which the API server sends without `kind`/`apiVersion`, get them from the list's resource.
enum KubeJSON {
    typealias Failure = KubeJSONError

    /// The top-level object of a list page or watch event.
    static func fields(_ bytes: [UInt8]) throws(Failure) -> [String: KubeValue] {
        guard case .object(let fields) = try KubeJSONParser.parse(bytes).content else { throw .notAnObject }
        return fields
    }

    /// Decodes one object of `kind`; nil when it is of a kind mcdns does not read (a foreign group's kind).
    static func decode(fields object: [String: KubeValue], as kind: KubeObjectKind) throws(Failure) -> KubeObject? {
        var object = object
        if object["kind"] == nil { object["kind"] = KubeValue(.string(kind.rawValue)) }
        if object["apiVersion"] == nil { object["apiVersion"] = KubeValue(.string(kind.apiVersion)) }
        if case .object(var metadata)? = object["metadata"]?.content, metadata["managedFields"] != nil {
            metadata["managedFields"] = nil
            object["metadata"] = KubeValue(.object(metadata))
        }
        do {
            return try KubeObject.decode(KubeValue(.object(object)))
        } catch {
            throw .decoding(error)
        }
    }

    /// `metadata.resourceVersion` of a parsed JSON object, as the opaque string it is.
    static func resourceVersion(fields object: [String: KubeValue]) -> String? {
        guard case .object(let metadata)? = object["metadata"]?.content,
            case .string(let version)? = metadata["resourceVersion"]?.content
        else { return nil }
        return version
    }
}
