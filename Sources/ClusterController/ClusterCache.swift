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

    /// A slice's namespace and name, kept in `ServiceKey`'s packed form (16 bytes, not 32: one string).
    private typealias SliceID = ServiceKey

    /// Services as the merge reads them, packed (`CachedService`): without `uid` and `resourceVersion` (a uid is a
    /// 36-character string on the heap per service, and a Service whose resourceVersion alone moved has nothing
    /// new to merge).
    private var services: [ServiceKey: CachedService] = [:]
    /// EndpointSlices by the service they belong to (label `kubernetes.io/service-name`), in name order, as the
    /// merge reads them (`CachedSlice`). An array, not a dictionary by name: most services have one slice, and a
    /// dictionary per service cost about 130 bytes more per service at 100,000 services (issue 3); a service's
    /// few slices are searched in order.
    private var slices: [ServiceKey: [CachedSlice]] = [:]
    public private(set) var exports: [ServiceKey: KubeServiceExport] = [:]
    public private(set) var nodes: [String: KubeNode] = [:]
    /// The service a slice is filed under, kept only for a slice whose name does not start with that service's
    /// name and a dash. Kubernetes names the slices it makes `<service>-<random>`, so the owner of nearly every
    /// slice follows from its name (`owner(of:)`), and a relabelled or deleted slice still leaves its old service.
    /// A map of every slice, its ids mostly longer than a string holds inline, cost about 39 bytes per endpoint at
    /// 100,000 three-endpoint services (heaptrack, issue 3).
    private var unconventionalOwners: [SliceID: ServiceKey] = [:]
    /// Slices held.
    private var sliceCount = 0

    public init() {}

    /// Objects held, by kind (for status).
    public var objectCounts: [String: Int] {
        ["services": services.count, "endpointSlices": sliceCount, "serviceExports": exports.count,
         "nodes": nodes.count]
    }

    /// The Service filed under `key`, with what the merge reads (no `uid` or `resourceVersion`).
    public func service(_ key: ServiceKey) -> KubeService? {
        services[key]?.service(namespace: key.namespace, name: key.name)
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
            let cached = CachedService(service)
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
                list.insert(CachedSlice(slice),
                            at: list.firstIndex { $0.name > slice.metadata.name } ?? list.endIndex)
                slices[key] = list
                sliceCount += 1
                if !Self.follows(slice: slice.metadata.name, service: serviceName) { unconventionalOwners[id] = key }
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
                return list.map { KubeObjectRef(kind: .endpointSlice, namespace: namespace, name: $0.name) }
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
        (slices[key] ?? []).map { $0.slice(namespace: key.namespace, serviceName: key.name) }
    }

    /// What must hold between events; returns each violation found (none when the cache is sound): each
    /// service's slice list is non-empty and in strictly increasing name order; `sliceCount` is the slices held; a
    /// slice whose name follows its service's (`follows`) has no recorded owner and any other has its service
    /// recorded; every recorded owner holds that slice; each slice's owner is found again from its name
    /// (`owner(of:)`), so a later delete reaches it; and every packed service and slice unpacks to what packs
    /// to the same bytes again.
    public func validate() -> [String] {
        var problems: [String] = []
        func fail(_ message: String) { if problems.count < 20 { problems.append("cluster cache: \(message)") } }
        var held = 0
        for (key, list) in slices {
            if list.isEmpty { fail("\(key) has an empty slice list") }
            held += list.count
            for (a, b) in zip(list, list.dropFirst()) where a.name >= b.name {
                fail("\(key)'s slices \(a.name) and \(b.name) are out of name order")
            }
            for slice in list {
                let id = SliceID(namespace: key.namespace, name: slice.name)
                let recorded = unconventionalOwners[id]
                if Self.follows(slice: slice.name, service: key.name) ? recorded != nil : recorded != key {
                    fail("slice \(id) of \(key) has recorded owner \(recorded.map { "\($0)" } ?? "none")")
                }
                if owner(of: id) != key { fail("slice \(id) of \(key) is found under \(owner(of: id).map { "\($0)" } ?? "none")") }
                if CachedSlice(slice.slice(namespace: key.namespace, serviceName: key.name)) != slice {
                    fail("slice \(id) does not pack to the same bytes again")
                }
            }
        }
        if held != sliceCount { fail("sliceCount is \(sliceCount); \(held) slices are held") }
        for (id, key) in unconventionalOwners where slices[key]?.contains(where: { $0.name == id.name }) != true
            || id.namespace != key.namespace {
            fail("slice \(id)'s recorded owner \(key) does not hold it")
        }
        for (key, cached) in services where CachedService(cached.service(namespace: key.namespace, name: key.name)) != cached {
            fail("service \(key) does not pack to the same bytes again")
        }
        return problems
    }

    /// Miscounts the slices held (tests only): `validate()` must then report it.
    mutating func damageForTesting() { sliceCount += 1 }

    private mutating func removeSlice(_ id: SliceID) -> Impact {
        guard let owner = owner(of: id) else { return Impact() }
        let name = id.name
        slices[owner]?.removeAll { $0.name == name }
        if slices[owner]?.isEmpty == true { slices[owner] = nil }
        unconventionalOwners[id] = nil
        sliceCount -= 1
        return Impact(keys: [owner])
    }

    /// Whether a slice's name says which service it belongs to: it starts with the service's name and a dash.
    public static func follows(slice: String, service: String) -> Bool {
        var name = slice.utf8[...]
        for byte in service.utf8 {
            guard name.first == byte else { return false }
            name = name.dropFirst()
        }
        return name.first == UInt8(ascii: "-")
    }

    /// The service a held slice is filed under, nil when it is not held: the recorded owner, else the service
    /// named by a part of the slice's name before one of its dashes that holds a slice of that name.
    private func owner(of id: SliceID) -> ServiceKey? {
        if let owner = unconventionalOwners[id] { return owner }
        let name = id.name
        let namespace = id.namespace
        let utf8 = name.utf8
        var index = utf8.startIndex
        while index != utf8.endIndex {
            if utf8[index] == UInt8(ascii: "-"), index != utf8.startIndex {
                let key = ServiceKey(namespace: namespace, name: String(name[..<index]))
                if slices[key]?.contains(where: { $0.name == name }) == true { return key }
            }
            index = utf8.index(after: index)
        }
        return nil
    }
}

/// An EndpointSlice as the merge reads it, its endpoints packed into one byte array. Kept as
/// `KubeEndpointSlice`, a three-endpoint slice cost about 520 bytes (an array of endpoints, an array of
/// addresses per endpoint, the slice's metadata and ports); packed, about 150 (issue 3, `bench/scale.sh`).
struct CachedSlice: Sendable, Equatable {
    let name: String
    let addressType: KubeEndpointSlice.AddressType
    /// Per endpoint: two flag bytes, the address count, each address, then hostname, zone and node name when
    /// present. Counts and lengths are LEB128 varints; text is UTF-8.
    let endpoints: [UInt8]

    private enum Flag {
        static let readyKnown: UInt16 = 1 << 0
        static let ready: UInt16 = 1 << 1
        static let servingKnown: UInt16 = 1 << 2
        static let serving: UInt16 = 1 << 3
        static let terminatingKnown: UInt16 = 1 << 4
        static let terminating: UInt16 = 1 << 5
        static let hostname: UInt16 = 1 << 6
        static let zone: UInt16 = 1 << 7
        static let nodeName: UInt16 = 1 << 8
    }

    init(_ slice: KubeEndpointSlice) {
        name = slice.metadata.name
        addressType = slice.addressType
        var writer = PackedWriter()
        for endpoint in slice.endpoints {
            var flags: UInt16 = 0
            func condition(_ value: Bool?, _ known: UInt16, _ on: UInt16) {
                if let value { flags |= known | (value ? on : 0) }
            }
            condition(endpoint.ready, Flag.readyKnown, Flag.ready)
            condition(endpoint.serving, Flag.servingKnown, Flag.serving)
            condition(endpoint.terminating, Flag.terminatingKnown, Flag.terminating)
            if endpoint.hostname != nil { flags |= Flag.hostname }
            if endpoint.zone != nil { flags |= Flag.zone }
            if endpoint.nodeName != nil { flags |= Flag.nodeName }
            writer.byte(UInt8(flags & 0xFF))
            writer.byte(UInt8(flags >> 8))
            writer.varint(endpoint.addresses.count)
            for address in endpoint.addresses { writer.text(address) }
            for text in [endpoint.hostname, endpoint.zone, endpoint.nodeName] {
                if let text { writer.text(text) }
            }
        }
        endpoints = writer.finish()
    }

    /// The slice again, with the namespace and service name it is filed under.
    func slice(namespace: String, serviceName: String) -> KubeEndpointSlice {
        var result = KubeEndpointSlice(metadata: KubeObjectMeta(namespace: namespace, name: name),
                                       serviceName: serviceName, addressType: addressType)
        var reader = PackedReader(endpoints)
        while reader.at + 1 < endpoints.count {
            let flags = UInt16(reader.byte()) | UInt16(reader.byte()) << 8
            var endpoint = KubeEndpointSlice.Endpoint(addresses: [])
            for _ in 0..<max(reader.varint(), 0) { endpoint.addresses.append(reader.text()) }
            func condition(_ known: UInt16, _ on: UInt16) -> Bool? { flags & known != 0 ? flags & on != 0 : nil }
            endpoint.ready = condition(Flag.readyKnown, Flag.ready)
            endpoint.serving = condition(Flag.servingKnown, Flag.serving)
            endpoint.terminating = condition(Flag.terminatingKnown, Flag.terminating)
            if flags & Flag.hostname != 0 { endpoint.hostname = reader.text() }
            if flags & Flag.zone != 0 { endpoint.zone = reader.text() }
            if flags & Flag.nodeName != 0 { endpoint.nodeName = reader.text() }
            result.endpoints.append(endpoint)
        }
        return result
    }
}
