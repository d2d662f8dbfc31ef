/// One decoded object of a kind mcdns reads.
public enum KubeObject: Sendable, Hashable {
    case service(KubeService)
    case endpointSlice(KubeEndpointSlice)
    case serviceExport(KubeServiceExport)
    case node(KubeNode)
    case serviceDNSRecord(KubeServiceDNSRecord)

    public var ref: KubeObjectRef {
        switch self {
        case .service(let service):
            return KubeObjectRef(kind: .service, namespace: service.metadata.namespace, name: service.metadata.name)
        case .endpointSlice(let slice):
            return KubeObjectRef(kind: .endpointSlice, namespace: slice.metadata.namespace, name: slice.metadata.name)
        case .serviceExport(let export):
            return KubeObjectRef(
                kind: .serviceExport,
                namespace: export.metadata.namespace,
                name: export.metadata.name
            )
        case .node(let node):
            return KubeObjectRef(kind: .node, namespace: "", name: node.name)
        case .serviceDNSRecord(let record):
            return KubeObjectRef(
                kind: .serviceDNSRecord,
                namespace: record.metadata.namespace,
                name: record.metadata.name
            )
        }
    }

    /// Decodes one object. Returns nil for kinds mcdns does not read (a Deployment in a manifest, say), and
    /// throws for a kind it reads but cannot decode, or one it reads in an API version it does not know.
    public static func decode(_ value: KubeValue) throws(KubeDecodingError) -> KubeObject? {
        let object = try FieldReader(value, path: "")
        guard let kind = try header(object) else { return nil }
        switch kind {
        case .service: return .service(try KubeService.decode(object))
        case .endpointSlice: return .endpointSlice(try KubeEndpointSlice.decode(object))
        case .serviceExport: return .serviceExport(try KubeServiceExport.decode(object))
        case .node: return .node(try KubeNode.decode(object))
        case .serviceDNSRecord: return .serviceDNSRecord(try KubeServiceDNSRecord.decode(object))
        }
    }

    /// The kind of a document, nil for kinds mcdns does not read.
    static func header(_ object: FieldReader) throws(KubeDecodingError) -> KubeObjectKind? {
        let apiVersion = try object.requiredString("apiVersion")
        let kindName = try object.requiredString("kind")
        guard let kind = KubeObjectKind(rawValue: kindName) else { return nil }
        if apiVersion == kind.apiVersion { return kind }
        let group = apiVersion.firstIndex(of: "/").map { String(apiVersion[..<$0]) } ?? ""
        // Same group, other version: the user means this kind, so say which version works. Another group with
        // the same kind name (a CRD called Service) is not ours and is ignored.
        guard group == kind.group else { return nil }
        throw KubeDecodingError(
            path: "apiVersion",
            line: object.value("apiVersion")?.line ?? object.line,
            problem: .unsupportedVersion(
                kind: kindName,
                apiVersion: apiVersion,
                supported: kind.apiVersion
            )
        )
    }
}
