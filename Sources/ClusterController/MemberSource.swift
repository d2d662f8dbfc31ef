public import MCDNSModel

/// A member cluster's objects as a stream of events.
///
/// `run` lives as long as the controller: it emits the initial state (upserts or `replace`), then `synced`, then
/// changes as they happen, and reports its link with `linkLost`/`linkRegained`/`synced`. It reconnects on its own;
/// it returns or throws only when cancelled or when it cannot go on at all (the controller then treats the
/// member's link as lost for good).
public protocol MemberSource: Sendable {
    var cluster: ClusterID { get }
    func run(events: MemberEventSink) async throws
}
