import MCDNSModel
import Synchronization

/// Which members are drained, from its two sources: `clusters[].drain: true` in the configuration (replaced by
/// every reload) and `mcdns drain` through the admin API (held in this process's memory: it survives reloads, is
/// dropped for a cluster a reload removes, and is forgotten on restart; put `drain: true` in the configuration
/// for a drain that must outlast the process). A cluster is drained while either says so; `mcdns undrain` clears
/// only the admin API's drain, so it refuses a cluster the configuration drains.
final class DrainRegistry: Sendable {
    private struct State {
        var members: [ClusterID] = []
        var configured: Set<ClusterID> = []
        /// `mcdns drain`, with its reason (nil: none given).
        var admin: [ClusterID: String?] = [:]
    }

    enum Failure: Error, Equatable {
        /// Not a configured member (the message lists the members).
        case unknownCluster(String)
        /// `mcdns undrain` of a cluster `clusters[].drain` drains.
        case drainedByConfiguration(String)
    }

    private let state: Mutex<State>

    init(configuration: Configuration) {
        state = Mutex(State())
        reconfigure(configuration)
    }

    /// Takes the configuration's members and drains; admin drains of members no longer configured are dropped.
    func reconfigure(_ configuration: Configuration) {
        state.withLock { state in
            state.members = configuration.clusters.map(\.name)
            state.configured = Set(configuration.clusters.filter(\.drain).map(\.name))
            state.admin = state.admin.filter { configuration.clusters.map(\.name).contains($0.key) }
        }
    }

    /// The drained members and why: the configuration's origin when both drain a cluster (undrain cannot end it),
    /// with the operator's reason if one was given.
    var effective: [ClusterID: ClusterDrain] {
        state.withLock { Self.effective($0) }
    }

    private static func effective(_ state: State) -> [ClusterID: ClusterDrain] {
        var result: [ClusterID: ClusterDrain] = [:]
        for (cluster, reason) in state.admin { result[cluster] = ClusterDrain(origin: .admin, reason: reason) }
        for cluster in state.configured {
            result[cluster] = ClusterDrain(origin: .configuration, reason: state.admin[cluster] ?? nil)
        }
        return result
    }

    /// `mcdns drain CLUSTER [--reason …]`: drains it (again, with the new reason, if it already was). Returns
    /// the cluster's drain now.
    func drain(_ cluster: ClusterID, reason: String?) throws(Failure) -> ClusterDrain {
        let result: Result<ClusterDrain, Failure> = state.withLock { state in
            if let unknown = Self.unknown(cluster, state) { return .failure(unknown) }
            state.admin[cluster] = .some(reason)
            return .success(Self.effective(state)[cluster]!)
        }
        return try result.get()
    }

    /// `mcdns undrain CLUSTER`: ends its admin drain. Returns whether it was drained.
    func undrain(_ cluster: ClusterID) throws(Failure) -> Bool {
        let result: Result<Bool, Failure> = state.withLock { state in
            if let unknown = Self.unknown(cluster, state) { return .failure(unknown) }
            if state.configured.contains(cluster) {
                return .failure(.drainedByConfiguration(
                    "cluster \(cluster) is drained by the configuration (clusters[].drain: true): remove that line "
                        + "and reload (SIGHUP) to undrain it"
                ))
            }
            return .success(state.admin.removeValue(forKey: cluster) != nil)
        }
        return try result.get()
    }

    private static func unknown(_ cluster: ClusterID, _ state: State) -> Failure? {
        guard !state.members.contains(cluster) else { return nil }
        return .unknownCluster(
            "no member cluster named \(cluster); members: " + state.members.map(\.rawValue).joined(separator: ", ")
        )
    }
}
