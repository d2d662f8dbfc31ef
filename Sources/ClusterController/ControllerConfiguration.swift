public import KubeClient
import MCDNSModel

/// What the controller needs to know; the daemon maps its YAML configuration (DESIGN §3) onto this.
public struct ControllerConfiguration: Sendable, Equatable {
    public var members: [MemberConfiguration]
    public var export: ExportPolicy
    /// How long a disconnected member's last-known targets keep serving (stale) before they leave (offline).
    public var staleGracePeriod: Duration
    /// Events arriving within this window after the first one are merged and published as one batch.
    public var coalescingWindow: Duration
    /// How often manifest directories are checked for changes.
    public var manifestPollInterval: Duration
    /// List/watch tuning of members read from an API server (kubeconfig, inCluster).
    public var reflector: ReflectorConfiguration
    /// How many lists may run at once across all API-server members (a fleet restarting together).
    public var listConcurrency: Int

    public init(
        members: [MemberConfiguration],
        export: ExportPolicy = ExportPolicy(),
        staleGracePeriod: Duration = .seconds(120),
        coalescingWindow: Duration = .milliseconds(2),
        manifestPollInterval: Duration = .milliseconds(200),
        reflector: ReflectorConfiguration = ReflectorConfiguration(),
        listConcurrency: Int = 4
    ) {
        self.reflector = reflector
        self.listConcurrency = listConcurrency
        self.members = members
        self.export = export
        self.staleGracePeriod = staleGracePeriod
        self.coalescingWindow = coalescingWindow
        self.manifestPollInterval = manifestPollInterval
    }

    /// Checks what the types cannot: unique member names, an export annotation the decoder keeps.
    public func validate() throws(ControllerError) {
        var seen: Set<ClusterID> = []
        for member in members {
            guard !member.name.rawValue.isEmpty else {
                throw .invalidConfiguration("clusters[].name must not be empty")
            }
            guard seen.insert(member.name).inserted else {
                throw .invalidConfiguration("cluster \"\(member.name)\" is listed twice; member names must be unique")
            }
            if let zones = member.zones, zones.contains(where: \.isEmpty) {
                throw .invalidConfiguration("cluster \"\(member.name)\": zones must not contain an empty name")
            }
        }
        guard listConcurrency > 0 else { throw .invalidConfiguration("listConcurrency must be at least 1") }
        try export.validate()
    }
}
