/// A connector whose transport can come back by itself, and can tell when it has: the reverse tunnel, where a new
/// agent session makes the member reachable again. A `Reflector` sitting in its backoff after a failure wakes as
/// soon as a newer connection is up, instead of sleeping out a delay of up to `maximumBackoff` (30 s).
///
/// Only a connection newer than the one the failed attempt could have used wakes a reflector, so a transport that
/// is up but whose requests fail (an API server answering 5xx) is still retried at the backoff's pace.
public protocol KubeReconnectingConnector: KubeConnector {
    /// An opaque mark of the newest connection so far; it grows with every new connection.
    func connectionEpoch() -> UInt64
    /// Returns once a connection newer than `epoch` is up. Must end promptly (throwing `CancellationError`) when
    /// its task is cancelled: the reflector cancels it once its backoff timer fires first. Throws any
    /// error when it cannot tell any more (the transport shut down); the reflector then waits out its backoff.
    func waitForConnection(newerThan epoch: UInt64) async throws
}
