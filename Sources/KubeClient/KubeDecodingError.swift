/// Why a Kubernetes object could not be read: which object, which field, what was wrong, and where.
public struct KubeDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Problem: Sendable, Equatable {
        case missingField
        case wrongType(expected: String, found: String)
        case invalidValue(String)
        case unsupportedVersion(kind: String, apiVersion: String, supported: String)
    }

    /// The field, in the dotted form `kubectl explain` uses: `spec.ports[1].port`. Empty for the whole document.
    public var path: String
    /// 1-based source line of the offending value (or of the nearest enclosing one), when known.
    public var line: Int?
    public var problem: Problem
    /// The object being read, as `Kind namespace/name`, once known.
    public var object: String?

    public init(path: String, line: Int?, problem: Problem, object: String? = nil) {
        self.path = path
        self.line = line
        self.problem = problem
        self.object = object
    }

    public var description: String {
        var text = ""
        if let object { text += "\(object): " }
        if !path.isEmpty { text += "\(path): " }
        switch problem {
        case .missingField:
            text += "required field is missing"
        case .wrongType(let expected, let found):
            text += "expected \(expected), found \(found)"
        case .invalidValue(let message):
            text += message
        case .unsupportedVersion(let kind, let apiVersion, let supported):
            text += "\(kind) \(apiVersion) is not supported; use apiVersion \(supported)"
        }
        return text
    }

    func prefixed(by parent: String) -> KubeDecodingError {
        var copy = self
        copy.path = path.isEmpty ? parent : parent + (path.hasPrefix("[") ? "" : ".") + path
        return copy
    }
}
