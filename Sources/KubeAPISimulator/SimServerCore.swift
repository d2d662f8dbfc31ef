import NIOCore
import Synchronization

/// What every connection of one simulator shares: configuration, store, pending faults, the request log and the
/// open connections (closed on stop).
final class SimServerCore: Sendable {
    struct PendingFault: Sendable {
        var fault: SimFault
        var match: SimRequestMatch
        var remaining: Int
    }

    /// What a fault is matched against.
    struct RequestFacts {
        var path: String
        var resource: SimResource?
        var isList: Bool
        var isWatch: Bool
        var hasContinue: Bool
    }

    let configuration: SimulatorConfiguration
    let store: SimStore
    private let faults = Mutex<[PendingFault]>([])
    private let records = Mutex<[SimRequestRecord]>([])
    private let connections = Mutex<[ObjectIdentifier: any Channel]>([:])
    /// "127.0.0.1:PORT", for /api's serverAddressByClientCIDRs; set once the port is bound.
    let serverAddress = Mutex<String>("127.0.0.1:0")
    /// The `kube-system` Namespace's uid now (a restart may give the server another identity).
    let kubeSystemUID: Mutex<String>
    /// Resources not served now (a CRD not installed); starts as the configuration's `uninstalledResources`.
    let uninstalled: Mutex<Set<SimResource>>

    init(configuration: SimulatorConfiguration, store: SimStore) {
        self.configuration = configuration
        self.store = store
        self.kubeSystemUID = Mutex(configuration.kubeSystemUID)
        self.uninstalled = Mutex(configuration.uninstalledResources)
    }

    // MARK: faults

    func inject(_ fault: SimFault, matching: SimRequestMatch, times: Int) {
        guard times > 0 else { return }
        faults.withLock { $0.append(PendingFault(fault: fault, match: matching, remaining: times)) }
    }

    /// Takes one use of the first pending fault that applies to the request.
    func takeFault(for facts: RequestFacts) -> SimFault? {
        faults.withLock { faults in
            guard let index = faults.firstIndex(where: { Self.applies($0, to: facts) }) else { return nil }
            let fault = faults[index].fault
            faults[index].remaining -= 1
            if faults[index].remaining <= 0 { faults.remove(at: index) }
            return fault
        }
    }

    var pendingFaultCount: Int { faults.withLock { $0.reduce(0) { $0 + $1.remaining } } }

    private static func applies(_ pending: PendingFault, to facts: RequestFacts) -> Bool {
        // An expired continue token only makes sense for a list that carries one.
        if pending.fault == .expireContinueToken, !(facts.isList && facts.hasContinue) { return false }
        switch pending.match {
        case .any: return true
        case .list(let resource): return facts.isList && facts.resource == resource
        case .watch(let resource): return facts.isWatch && facts.resource == resource
        case .path(let prefix): return facts.path.hasPrefix(prefix)
        }
    }

    // MARK: request log

    func record(_ record: SimRequestRecord) -> Int {
        records.withLock { records in
            records.append(record)
            return records.count - 1
        }
    }

    func setStatus(_ status: Int, user: String?, forRecord index: Int) {
        records.withLock { records in
            guard records.indices.contains(index) else { return }
            records[index].status = status
            records[index].user = user
            records[index].answeredAt = .now
        }
    }

    func requests() -> [SimRequestRecord] { records.withLock { $0 } }

    func resetRequests() { records.withLock { $0.removeAll() } }

    // MARK: connections

    func connectionOpened(_ channel: any Channel) {
        connections.withLock { $0[ObjectIdentifier(channel)] = channel }
    }

    func connectionClosed(_ channel: any Channel) {
        _ = connections.withLock { $0.removeValue(forKey: ObjectIdentifier(channel)) }
    }

    func openConnections() -> [any Channel] { connections.withLock { Array($0.values) } }
}
