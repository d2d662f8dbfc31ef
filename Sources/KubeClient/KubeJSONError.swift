/// API server JSON that cannot be used: not JSON, not an object, or an object that does not decode.
public enum KubeJSONError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidJSON(String)
    case notAnObject
    case decoding(KubeDecodingError)

    public var description: String {
        switch self {
        case .invalidJSON(let detail): return "invalid JSON: \(detail)"
        case .notAnObject: return "expected a JSON object"
        case .decoding(let error): return "\(error)"
        }
    }
}
