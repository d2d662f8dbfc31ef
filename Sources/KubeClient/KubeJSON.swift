import Foundation

/// Decoding of API server JSON into the slim projections.
///
/// `JSONSerialization` reads the bytes; `managedFields` (often most of an object's size) is dropped before the
/// tree is converted, and list items, which the API server sends without `kind`/`apiVersion`, get them from the
/// list's resource.
enum KubeJSON {
    typealias Failure = KubeJSONError

    static func object(_ bytes: [UInt8]) throws(Failure) -> [String: Any] {
        let parsed: Any
        do {
            parsed = try JSONSerialization.jsonObject(with: Data(bytes), options: [])
        } catch {
            throw .invalidJSON(String(describing: error))
        }
        guard let object = parsed as? [String: Any] else { throw .notAnObject }
        return object
    }

    /// Decodes one object of `kind`; nil when it is of a kind mcdns does not read (a foreign group's kind).
    static func decode(_ object: [String: Any], as kind: KubeObjectKind) throws(Failure) -> KubeObject? {
        var object = object
        if object["kind"] == nil { object["kind"] = kind.rawValue }
        if object["apiVersion"] == nil { object["apiVersion"] = kind.apiVersion }
        if var metadata = object["metadata"] as? [String: Any], metadata["managedFields"] != nil {
            metadata["managedFields"] = nil
            object["metadata"] = metadata
        }
        do {
            return try KubeObject.decode(try KubeValue(jsonObject: object))
        } catch {
            throw .decoding(error)
        }
    }

    /// `metadata.resourceVersion` of a decoded JSON object, as the opaque string it is.
    static func resourceVersion(_ object: [String: Any]) -> String? {
        (object["metadata"] as? [String: Any])?["resourceVersion"] as? String
    }
}
