/// A `v1/Node` reduced to its topology labels.
public struct KubeNode: Sendable, Hashable {
    public static let regionLabel = "topology.kubernetes.io/region"
    public static let zoneLabel = "topology.kubernetes.io/zone"
    /// The pre-1.17 labels, still set by some providers.
    public static let legacyRegionLabel = "failure-domain.beta.kubernetes.io/region"
    public static let legacyZoneLabel = "failure-domain.beta.kubernetes.io/zone"

    public var name: String
    public var resourceVersion: String?
    public var region: String?
    public var zone: String?

    public init(name: String, resourceVersion: String? = nil, region: String? = nil, zone: String? = nil) {
        self.name = name
        self.resourceVersion = resourceVersion
        self.region = region
        self.zone = zone
    }

    static func decode(_ object: FieldReader) throws(KubeDecodingError) -> KubeNode {
        let (metadata, metadataReader) = try KubeObjectMeta.decode(object, namespaced: false)
        let wanted: Set<String> = [regionLabel, zoneLabel, legacyRegionLabel, legacyZoneLabel]
        let labels: [String: String]
        do {
            labels = try metadataReader.stringMap("labels") { wanted.contains($0) }
        } catch {
            var error = error
            error.object = "Node \(metadata.name)"
            throw error
        }
        func nonEmpty(_ value: String?) -> String? { value?.isEmpty == false ? value : nil }
        return KubeNode(
            name: metadata.name,
            resourceVersion: metadata.resourceVersion,
            region: nonEmpty(labels[regionLabel]) ?? nonEmpty(labels[legacyRegionLabel]),
            zone: nonEmpty(labels[zoneLabel]) ?? nonEmpty(labels[legacyZoneLabel])
        )
    }
}
