/// A `multicluster.mcdns.io/v1alpha1` ServiceDNSRecord in the host cluster: mcdns's own CRD. The spec is what a
/// user asks for one service; the status is kept as the raw tree the server holds, so the status writer can
/// tell whether what it would write differs without a second, lossy projection.
public struct KubeServiceDNSRecord: Sendable, Hashable {
    /// The label mcdns puts on the records it creates itself; only those are ever deleted by it.
    public static let managedByLabel = "app.kubernetes.io/managed-by"

    public var metadata: KubeObjectMeta
    /// `metadata.generation`: bumped by the API server on spec changes only.
    public var generation: Int?
    /// The value of `app.kubernetes.io/managed-by`, if any.
    public var managedBy: String?
    public var spec: Spec
    /// `status` as stored (nil when the object has none yet).
    public var status: KubeValue?

    /// kubefed-compatible spec fields; absent fields are nil.
    public struct Spec: Sendable, Hashable {
        public var domainRef: String?
        public var recordTTL: Int?
        public var dnsPrefix: String?
        public var externalName: String?
        public var allowServiceWithoutEndpoints: Bool?
        /// The traffic policy in its text form (`nearest`, `weighted: a=70, b=30`, `failover: a, b`); the
        /// controller parses it and reports a bad one in the record's status.
        public var trafficPolicy: String?

        public init(
            domainRef: String? = nil,
            recordTTL: Int? = nil,
            dnsPrefix: String? = nil,
            externalName: String? = nil,
            allowServiceWithoutEndpoints: Bool? = nil,
            trafficPolicy: String? = nil
        ) {
            self.domainRef = domainRef
            self.recordTTL = recordTTL
            self.dnsPrefix = dnsPrefix
            self.externalName = externalName
            self.allowServiceWithoutEndpoints = allowServiceWithoutEndpoints
            self.trafficPolicy = trafficPolicy
        }

        /// Whether no field is set (mcdns creates its records with an empty spec).
        public var isEmpty: Bool { self == Spec() || self == Spec(allowServiceWithoutEndpoints: false) }
    }

    public init(
        metadata: KubeObjectMeta,
        generation: Int? = nil,
        managedBy: String? = nil,
        spec: Spec = Spec(),
        status: KubeValue? = nil
    ) {
        self.metadata = metadata
        self.generation = generation
        self.managedBy = managedBy
        self.spec = spec
        self.status = status
    }

    static func decode(_ object: FieldReader) throws(KubeDecodingError) -> KubeServiceDNSRecord {
        let (metadata, metadataReader) = try KubeObjectMeta.decode(object, namespaced: true)
        do throws(KubeDecodingError) {
            let labels = try metadataReader.stringMap("labels") { $0 == managedByLabel }
            var spec = Spec()
            if let reader = try object.object("spec") {
                spec.domainRef = try reader.string("domainRef")
                spec.recordTTL = try reader.int("recordTTL")
                if let ttl = spec.recordTTL, ttl < 0 || ttl > 2_147_483_647 {
                    throw reader.invalid("recordTTL", "\(ttl) is not a TTL in seconds (0-2147483647)")
                }
                spec.dnsPrefix = try reader.string("dnsPrefix")
                spec.externalName = try reader.string("externalName")
                spec.allowServiceWithoutEndpoints = try reader.bool("allowServiceWithoutEndpoints")
                spec.trafficPolicy = try reader.string("trafficPolicy")
            }
            return KubeServiceDNSRecord(
                metadata: metadata,
                generation: try metadataReader.int("generation"),
                managedBy: labels[managedByLabel],
                spec: spec,
                status: object.value("status")
            )
        } catch {
            var error = error
            error.object = "ServiceDNSRecord \(metadata.namespace)/\(metadata.name)"
            throw error
        }
    }
}
