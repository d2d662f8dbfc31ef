public import KubeClient

/// What a member source reports. Sources for the Kubernetes API (list + watch), the reverse tunnel and manifest
/// directories all speak this, so the controller treats them alike.
public enum MemberEvent: Sendable, Equatable {
    /// An object was added or changed.
    case upsert(KubeObject)
    /// An object is gone.
    case delete(KubeObjectRef)
    /// The complete current set of one kind, after a (re)list: applied as a diff, so objects deleted while the
    /// watch was down are removed too (client-go's `DeletedFinalStateUnknown` case).
    case replace(KubeObjectKind, [KubeObject])
    /// Everything the source lists is now current (initial list done, or a relist after a reconnect).
    case synced
    /// The source can no longer see its member: its data becomes stale, then offline after the grace period.
    case linkLost(reason: String)
    /// The source resumed without missing anything (a watch resumed from its resourceVersion): current again.
    case linkRegained
    /// Something the operator should know that does not change the data, such as a manifest file that does not
    /// parse (its last good content stays in use).
    case problem(String)
}
