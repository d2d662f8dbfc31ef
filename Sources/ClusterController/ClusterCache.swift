public import KubeClient
public import MCDNSModel

/// One member's objects, as compact as the projections allow, indexed the way the merge reads them: by service.
public struct ClusterCache: Sendable {
    /// What an applied event touched: the services to re-merge, and whether node topology changed (which can
    /// change the member's locality and every endpoint zone taken from a node).
    public struct Impact: Sendable, Equatable {
        public var keys: Set<ServiceKey> = []
        public var topologyChanged = false

        public init(keys: Set<ServiceKey> = [], topologyChanged: Bool = false) {
            self.keys = keys
            self.topologyChanged = topologyChanged
        }

        mutating func formUnion(_ other: Impact) {
            keys.formUnion(other.keys)
            topologyChanged = topologyChanged || other.topologyChanged
        }
    }

    private struct SliceID: Hashable {
        var namespace: String
        var name: String
    }

    public private(set) var services: [ServiceKey: KubeService] = [:]
    /// EndpointSlices by the service they belong to (label `kubernetes.io/service-name`), in name order. An
    /// array, not a dictionary by name: most services have one slice, and a dictionary per service cost about
    /// 130 bytes more per service at 100,000 services (issue 3); a service's few slices are searched in order.
    private var slices: [ServiceKey: [KubeEndpointSlice]] = [:]
    public private(set) var exports: [ServiceKey: KubeServiceExport] = [:]
    public private(set) var nodes: [String: KubeNode] = [:]
    /// Which service a slice was filed under, so a relabelled or deleted slice leaves its old service.
    private var sliceOwners: [SliceID: ServiceKey] = [:]

    public init() {}

    /// Objects held, by kind (for status).
    public var objectCounts: [String: Int] {
        ["services": services.count, "endpointSlices": sliceOwners.count, "serviceExports": exports.count,
         "nodes": nodes.count]
    }

    /// Every service key this member knows anything about.
    public var allKeys: Set<ServiceKey> {
        Set(services.keys).union(slices.keys).union(exports.keys)
    }

    public mutating func apply(_ event: MemberEvent) -> Impact {
        switch event {
        case .upsert(let object): return upsert(object)
        case .delete(let ref): return delete(ref)
        case .replace(let kind, let objects): return replace(kind, with: objects)
        case .synced, .linkLost, .linkRegained, .problem: return Impact()
        }
    }

    public mutating func upsert(_ object: KubeObject) -> Impact {
        switch object {
        case .service(let service):
            let key = ServiceKey(namespace: service.metadata.namespace, name: service.metadata.name)
            if services[key] == service { return Impact() }
            services[key] = service
            return Impact(keys: [key])
        case .serviceExport(let export):
            let key = ServiceKey(namespace: export.metadata.namespace, name: export.metadata.name)
            if exports[key] == export { return Impact() }
            exports[key] = export
            return Impact(keys: [key])
        case .endpointSlice(let slice):
            let id = SliceID(namespace: slice.metadata.namespace, name: slice.metadata.name)
            var impact = removeSlice(id)
            if let serviceName = slice.serviceName {
                let key = ServiceKey(namespace: slice.metadata.namespace, name: serviceName)
                // removeSlice took out the old version, so the slice is inserted at its place in name order.
                var list = slices.removeValue(forKey: key) ?? []
                list.insert(slice, at: list.firstIndex { $0.metadata.name > slice.metadata.name } ?? list.endIndex)
                slices[key] = list
                sliceOwners[id] = key
                impact.keys.insert(key)
            }
            return impact
        case .node(let node):
            let old = nodes[node.name]
            nodes[node.name] = node
            // Only the labels matter; a Node updated for any other reason (status, resourceVersion) touches nothing.
            return Impact(topologyChanged: old?.region != node.region || old?.zone != node.zone)
        case .serviceDNSRecord:
            // Host-cluster objects, not a member's: a manifest directory holding one contributes nothing.
            return Impact()
        }
    }

    public mutating func delete(_ ref: KubeObjectRef) -> Impact {
        let key = ServiceKey(namespace: ref.namespace, name: ref.name)
        switch ref.kind {
        case .service:
            return services.removeValue(forKey: key) == nil ? Impact() : Impact(keys: [key])
        case .serviceExport:
            return exports.removeValue(forKey: key) == nil ? Impact() : Impact(keys: [key])
        case .endpointSlice:
            return removeSlice(SliceID(namespace: ref.namespace, name: ref.name))
        case .node:
            return nodes.removeValue(forKey: ref.name) == nil ? Impact() : Impact(topologyChanged: true)
        case .serviceDNSRecord:
            return Impact()
        }
    }

    /// Makes the cache hold exactly `objects` of `kind`: upserts them and deletes every other object of the kind.
    public mutating func replace(_ kind: KubeObjectKind, with objects: [KubeObject]) -> Impact {
        var impact = Impact()
        var keep: Set<KubeObjectRef> = []
        for object in objects where object.ref.kind == kind {
            keep.insert(object.ref)
            impact.formUnion(upsert(object))
        }
        for ref in refs(of: kind) where !keep.contains(ref) {
            impact.formUnion(delete(ref))
        }
        return impact
    }

    public func refs(of kind: KubeObjectKind) -> [KubeObjectRef] {
        switch kind {
        case .service:
            return services.keys.map { KubeObjectRef(kind: .service, namespace: $0.namespace, name: $0.name) }
        case .serviceExport:
            return exports.keys.map { KubeObjectRef(kind: .serviceExport, namespace: $0.namespace, name: $0.name) }
        case .endpointSlice:
            return sliceOwners.keys.map { KubeObjectRef(kind: .endpointSlice, namespace: $0.namespace, name: $0.name) }
        case .node:
            return nodes.keys.map { KubeObjectRef(kind: .node, namespace: "", name: $0) }
        case .serviceDNSRecord:
            return []
        }
    }

    /// The slices of one service, in name order (so merges are deterministic).
    public func slices(of key: ServiceKey) -> [KubeEndpointSlice] {
        slices[key] ?? []
    }

    private mutating func removeSlice(_ id: SliceID) -> Impact {
        guard let owner = sliceOwners.removeValue(forKey: id) else { return Impact() }
        slices[owner]?.removeAll { $0.metadata.name == id.name }
        if slices[owner]?.isEmpty == true { slices[owner] = nil }
        return Impact(keys: [owner])
    }
}
