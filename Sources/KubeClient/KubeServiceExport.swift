/// A `multicluster.x-k8s.io/v1alpha1` ServiceExport: its existence exports the Service of the same name.
public struct KubeServiceExport: Sendable, Hashable {
    public var metadata: KubeObjectMeta

    public init(metadata: KubeObjectMeta) {
        self.metadata = metadata
    }

    static func decode(_ object: FieldReader) throws(KubeDecodingError) -> KubeServiceExport {
        let (metadata, _) = try KubeObjectMeta.decode(object, namespaced: true)
        return KubeServiceExport(metadata: metadata)
    }
}
