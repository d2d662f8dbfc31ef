public import KubeClient

/// Which Services leave their cluster (`export:` in the configuration): any one rule is enough.
public struct ExportPolicy: Sendable, Equatable {
    /// The annotation whose value "true" exports a Service; nil turns the rule off. It must be a `mcdns.io/`
    /// annotation, because the decoder keeps only those (to keep cached objects small).
    public var annotation: String?
    /// A ServiceExport of the same namespace and name exports the Service (Kubernetes MCS).
    public var serviceExport: Bool
    /// Every Service in these namespaces is exported.
    public var namespaces: Set<String>

    public static let defaultAnnotation = "mcdns.io/export"

    public init(
        annotation: String? = ExportPolicy.defaultAnnotation,
        serviceExport: Bool = true,
        namespaces: Set<String> = []
    ) {
        self.annotation = annotation
        self.serviceExport = serviceExport
        self.namespaces = namespaces
    }

    /// Why a Service is exported, in the order the rules are checked.
    public enum Reason: String, Sendable, Equatable {
        case annotation, serviceExport, namespace
    }

    /// Whether `service` is exported, given the member's ServiceExport of the same name (if any).
    public func reason(for service: KubeService, export: KubeServiceExport?) -> Reason? {
        if let annotation, service.metadata.annotations[annotation]?.lowercased() == "true" { return .annotation }
        if serviceExport, export != nil { return .serviceExport }
        if namespaces.contains(service.metadata.namespace) { return .namespace }
        return nil
    }

    func validate() throws(ControllerError) {
        if let annotation,
            !annotation.hasPrefix(KubeObjectMeta.annotationPrefix)
                || annotation.count <= KubeObjectMeta.annotationPrefix.count
        {
            throw .invalidConfiguration(
                "export.annotation \"\(annotation)\" must be a \(KubeObjectMeta.annotationPrefix)NAME annotation "
                    + "(only those are read from Services), for example \(ExportPolicy.defaultAnnotation)"
            )
        }
    }
}
