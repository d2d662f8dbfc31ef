/// A kubeconfig (or in-cluster setup) mcdns cannot use, naming the file and the field, and what to do.
public struct KubeConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kubeconfig path, or `in-cluster` for the service-account setup.
    public var file: String
    /// The field in kubeconfig terms: `users["alice"].user.client-key`, `current-context`. Empty for the whole file.
    public var field: String
    public var message: String

    public init(file: String, field: String, message: String) {
        self.file = file
        self.field = field
        self.message = message
    }

    public var description: String {
        field.isEmpty ? "\(file): \(message)" : "\(file): \(field): \(message)"
    }
}
