public import Foundation

/// Leader election on a `coordination.k8s.io/v1` Lease, with client-go's timings and meanings.
public struct LeaderElectionConfiguration: Sendable, Equatable {
    /// Where the Lease lives (the `host.namespace` of the configuration).
    public var namespace: String
    public var leaseName: String
    /// Who this replica is: the Lease's `holderIdentity`.
    public var identity: String
    /// How long a Lease stays valid after its last renewal: a non-leader waits this long (measured on its own
    /// clock from when it last saw the Lease change) before it takes over.
    public var leaseDuration: Duration
    /// The leader gives up leading when it could not renew for this long (so it stops writing before a
    /// follower may take over at `leaseDuration`).
    public var renewDeadline: Duration
    /// How often to try to acquire or renew.
    public var retryPeriod: Duration

    public init(
        namespace: String,
        leaseName: String = "mcdns-leader",
        identity: String = LeaderElectionConfiguration.defaultIdentity(),
        leaseDuration: Duration = .seconds(15),
        renewDeadline: Duration = .seconds(10),
        retryPeriod: Duration = .seconds(2)
    ) {
        self.namespace = namespace
        self.leaseName = leaseName
        self.identity = identity
        self.leaseDuration = leaseDuration
        self.renewDeadline = renewDeadline
        self.retryPeriod = retryPeriod
    }

    /// The pod name (`POD_NAME`, set from the downward API in deploy/host, else the hostname, which is the pod
    /// name in Kubernetes) and the process id, so two processes on one machine never share an identity.
    public static func defaultIdentity(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        let host = environment["POD_NAME"].flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        return "\(host)_\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// client-go's rules: the lease outlives the renew deadline, which leaves room for a jittered retry.
    public func validate() throws(ControllerError) {
        guard !namespace.isEmpty, !leaseName.isEmpty, !identity.isEmpty else {
            throw .invalidConfiguration("leader election needs a namespace, a lease name and an identity")
        }
        guard leaseDuration > renewDeadline else {
            throw .invalidConfiguration(
                "leaseDuration (\(leaseDuration)) must be greater than renewDeadline (\(renewDeadline))"
            )
        }
        guard renewDeadline > retryPeriod * 1.2 else {
            throw .invalidConfiguration(
                "renewDeadline (\(renewDeadline)) must be greater than 1.2 × retryPeriod (\(retryPeriod))"
            )
        }
        guard retryPeriod > .zero else { throw .invalidConfiguration("retryPeriod must be positive") }
    }
}
