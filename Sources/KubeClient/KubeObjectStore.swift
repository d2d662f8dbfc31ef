/// The objects a reflector's events add up to: client-go's `Store`, for consumers that keep no cache of their
/// own (tests, benchmarks, tools). `ClusterController` applies the same events to its own `ClusterCache`.
public struct KubeObjectStore: Sendable, Equatable {
    public private(set) var objects: [KubeObjectRef: KubeObject] = [:]

    public init() {}

    /// Applies one event of a reflector watching `kind`; `down`/`resumed` change no data.
    public mutating func apply(_ event: ReflectorEvent, kind: KubeObjectKind) {
        switch event {
        case .replace(let listed):
            // A relist is the whole truth for its kind: anything not in it was deleted while away.
            objects = objects.filter { $0.key.kind != kind }
            for object in listed { objects[object.ref] = object }
        case .upsert(let object):
            objects[object.ref] = object
        case .delete(let ref):
            objects[ref] = nil
        case .down, .resumed:
            break
        }
    }

    public func objects(of kind: KubeObjectKind) -> [KubeObjectRef: KubeObject] {
        objects.filter { $0.key.kind == kind }
    }
}
