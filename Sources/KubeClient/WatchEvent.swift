/// One event of a watch stream, decoded.
public enum WatchEvent: Sendable, Equatable {
    case added(KubeObject, resourceVersion: String?)
    case modified(KubeObject, resourceVersion: String?)
    case deleted(KubeObject, resourceVersion: String?)
    /// A progress notification: the watch has seen everything up to this version; no object changed.
    case bookmark(resourceVersion: String)
    /// The server ends the watch with a Status (410 Expired, too large resource version, …).
    case error(KubeStatus)
    /// An object of a kind mcdns does not read (ignored), keeping its version so progress is not lost.
    case ignored(type: String, resourceVersion: String?)
    /// An object that does not decode (an invalid IP, say): logged and skipped; its version still counts.
    case malformed(type: String, problem: String, resourceVersion: String?)
    /// An event type this client does not know: logged and skipped.
    case unknown(type: String)

    /// Decodes one line of a watch body for a watch on `kind`.
    public static func decode(line: [UInt8], kind: KubeObjectKind) throws(KubeJSONError) -> WatchEvent {
        let event = try KubeJSON.fields(line)
        guard case .string(let type)? = event["type"]?.content else { throw .invalidJSON("watch event without a type") }
        guard case .object(let object)? = event["object"]?.content else {
            if ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"].contains(type) {
                throw .invalidJSON("\(type) event without an object")
            }
            return .unknown(type: type)
        }
        let version = KubeJSON.resourceVersion(fields: object)
        switch type {
        case "ADDED", "MODIFIED", "DELETED":
            let decoded: KubeObject?
            do {
                decoded = try KubeJSON.decode(fields: object, as: kind)
            } catch {
                return .malformed(type: type, problem: error.description, resourceVersion: version)
            }
            guard let decoded else { return .ignored(type: type, resourceVersion: version) }
            switch type {
            case "ADDED": return .added(decoded, resourceVersion: version)
            case "MODIFIED": return .modified(decoded, resourceVersion: version)
            default: return .deleted(decoded, resourceVersion: version)
            }
        case "BOOKMARK":
            guard let version else { throw .invalidJSON("BOOKMARK without metadata.resourceVersion") }
            return .bookmark(resourceVersion: version)
        case "ERROR":
            return .error(KubeStatus(fields: object))
        default:
            return .unknown(type: type)
        }
    }
}
