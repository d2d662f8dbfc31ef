public import Foundation

/// The parts of `metadata` mcdns uses. Labels and annotations are filtered at decode time (only the keys a kind
/// needs are kept) and `managedFields` is never read, so a cached object costs little memory.
public struct KubeObjectMeta: Sendable, Hashable {
    /// Empty for cluster-scoped kinds (Node).
    public var namespace: String
    public var name: String
    public var uid: String?
    public var resourceVersion: String?
    public var creationTimestamp: Date?
    /// Only `mcdns.io/*` annotations.
    public var annotations: [String: String]

    public static let annotationPrefix = "mcdns.io/"

    public init(
        namespace: String,
        name: String,
        uid: String? = nil,
        resourceVersion: String? = nil,
        creationTimestamp: Date? = nil,
        annotations: [String: String] = [:]
    ) {
        self.namespace = namespace
        self.name = name
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.creationTimestamp = creationTimestamp
        self.annotations = annotations
    }

    /// Reads `metadata` of a namespaced (`namespaced: true`) or cluster-scoped object. A namespaced object
    /// without a namespace is in `default`, as `kubectl apply` places it.
    static func decode(
        _ object: FieldReader,
        namespaced: Bool
    ) throws(KubeDecodingError) -> (KubeObjectMeta, FieldReader) {
        guard let metadata = try object.object("metadata") else { throw object.missing("metadata") }
        let name = try metadata.requiredString("name")
        var namespace = ""
        if namespaced {
            namespace = try metadata.string("namespace") ?? "default"
            if namespace.isEmpty { namespace = "default" }
        }
        var created: Date?
        if let text = try metadata.string("creationTimestamp") {
            guard let date = try? Date(text, strategy: .iso8601) else {
                throw metadata.invalid(
                    "creationTimestamp",
                    "\"\(text)\" is not an RFC 3339 time such as 2024-05-01T12:00:00Z",
                    at: metadata.value("creationTimestamp")
                )
            }
            created = date
        }
        let meta = KubeObjectMeta(
            namespace: namespace,
            name: name,
            uid: try metadata.string("uid"),
            resourceVersion: try metadata.string("resourceVersion"),
            creationTimestamp: created,
            annotations: try metadata.stringMap("annotations") { $0.hasPrefix(annotationPrefix) }
        )
        return (meta, metadata)
    }
}
