/// What a `Reflector` tells its consumer, in order.
public enum ReflectorEvent: Sendable, Equatable {
    /// The complete set after a (re)list: apply it as a diff (objects missing from it were deleted meanwhile).
    case replace([KubeObject])
    case upsert(KubeObject)
    case delete(KubeObjectRef)
    /// The watch is failing and backing off; the data is as of the last event.
    case down(reason: String)
    /// A watch runs again from the last version, nothing missed.
    case resumed
}
