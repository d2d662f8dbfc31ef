public import KubeClient
public import MCDNSModel

/// One member's objects, with only the fields the merge reads, indexed the way the merge reads them: by service.
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

    /// A slice's namespace and name, kept in `ServiceKey`'s packed form (16 bytes, not 32: one string).
    private typealias SliceID = ServiceKey

    /// Services as the merge reads them (`kept(_:)`): without `uid` and `resourceVersion`, so a Service whose
    /// resourceVersion alone moved compares equal and has nothing new to merge.
    private var services: [ServiceKey: KubeService] = [:]
    /// EndpointSlices by the service they belong to (label `kubernetes.io/service-name`), in name order, as the
    /// merge reads them (`kept(_:)`). An array, not a dictionary by name: most services have one slice, and a
    /// service's few slices are searched in order.
    private var slices: [ServiceKey: [KubeEndpointSlice]] = [:]
    public private(set) var exports: [ServiceKey: KubeServiceExport] = [:]
    public private(set) var nodes: [String: KubeNode] = [:]
    /// The service each held slice is filed under, so a relabelled or deleted slice leaves its old service.
    private var owners: [SliceID: ServiceKey] = [:]

    public init() {}

    /// Objects held, by kind (for status).
    public var objectCounts: [String: Int] {
        ["services": services.count, "endpointSlices": owners.count, "serviceExports": exports.count,
         "nodes": nodes.count]
    }

    /// The Service filed under `key`, with what the merge reads (no `uid` or `resourceVersion`).
    public func service(_ key: ServiceKey) -> KubeService? {
        services[key]
    }

    /// The keys of every Service held.
    public var serviceKeys: [ServiceKey] { Array(services.keys) }

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
            let cached = Self.kept(service)
            if services[key] == cached { return Impact() }
            services[key] = cached
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
                list.insert(Self.kept(slice),
                            at: list.firstIndex { $0.metadata.name > slice.metadata.name } ?? list.endIndex)
                slices[key] = list
                owners[id] = key
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
            return slices.flatMap { key, list in
                let namespace = key.namespace
                return list.map { KubeObjectRef(kind: .endpointSlice, namespace: namespace, name: $0.metadata.name) }
            }
        case .node:
            return nodes.keys.map { KubeObjectRef(kind: .node, namespace: "", name: $0) }
        case .serviceDNSRecord:
            return []
        }
    }

    /// The slices of one service, in name order (so merges are deterministic), with what the merge reads: the
    /// name, the address type and the endpoints (metadata beyond namespace and name, and ports, are not kept).
    public func slices(of key: ServiceKey) -> [KubeEndpointSlice] {
        slices[key] ?? []
    }

    /// A Service as the cache keeps it: without `uid` and `resourceVersion` (nothing merges on them).
    static func kept(_ service: KubeService) -> KubeService {
        var service = service
        service.metadata.uid = nil
        service.metadata.resourceVersion = nil
        return service
    }

    /// An EndpointSlice as the cache keeps it: namespace, name, service name, address type and endpoints (the
    /// merge reads no other metadata, and takes ports from the Service).
    static func kept(_ slice: KubeEndpointSlice) -> KubeEndpointSlice {
        KubeEndpointSlice(metadata: KubeObjectMeta(namespace: slice.metadata.namespace, name: slice.metadata.name),
                          serviceName: slice.serviceName, addressType: slice.addressType, endpoints: slice.endpoints)
    }

    /// What must hold between events; returns each violation found (none when the cache is sound): each
    /// service's slice list is non-empty and in strictly increasing name order; every slice held has its service
    /// recorded in `owners` (so a later delete reaches it) and `owners` records no other slice; every slice is
    /// filed under the namespace and service it names; and every service is filed under its own namespace and
    /// name.
    public func validate() -> [String] {
        var problems: [String] = []
        func fail(_ message: String) { if problems.count < 20 { problems.append("cluster cache: \(message)") } }
        var held = 0
        for (key, list) in slices {
            if list.isEmpty { fail("\(key) has an empty slice list") }
            held += list.count
            for (a, b) in zip(list, list.dropFirst()) where a.metadata.name >= b.metadata.name {
                fail("\(key)'s slices \(a.metadata.name) and \(b.metadata.name) are out of name order")
            }
            for slice in list {
                let id = SliceID(namespace: key.namespace, name: slice.metadata.name)
                if owners[id] != key {
                    fail("slice \(id) of \(key) has recorded owner \(owners[id].map { "\($0)" } ?? "none")")
                }
                if slice.metadata.namespace != key.namespace || slice.serviceName != key.name {
                    fail("slice \(id) names service \(slice.serviceName ?? "none") but is filed under \(key)")
                }
            }
        }
        if held != owners.count { fail("owners records \(owners.count) slices; \(held) slices are held") }
        for (id, key) in owners where slices[key]?.contains(where: { $0.metadata.name == id.name }) != true
            || id.namespace != key.namespace {
            fail("slice \(id)'s recorded owner \(key) does not hold it")
        }
        for (key, service) in services
        where service.metadata.namespace != key.namespace || service.metadata.name != key.name {
            fail("service \(service.metadata.namespace)/\(service.metadata.name) is filed under \(key)")
        }
        return problems
    }

    /// Records a slice that is not held (tests only): `validate()` must then report it.
    mutating func damageForTesting() {
        owners[SliceID(namespace: "shop", name: "no-such-slice")] = ServiceKey(namespace: "shop", name: "none")
    }

    private mutating func removeSlice(_ id: SliceID) -> Impact {
        guard let owner = owners.removeValue(forKey: id) else { return Impact() }
        let name = id.name
        slices[owner]?.removeAll { $0.metadata.name == name }
        if slices[owner]?.isEmpty == true { slices[owner] = nil }
        return Impact(keys: [owner])
    }
}
