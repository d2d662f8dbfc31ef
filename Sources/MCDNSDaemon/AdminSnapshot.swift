import ClusterController
import ClusterTunnel
import Foundation
import DNSAnswer
import DNSWire
import MCDNSModel
import RecordStore

/// Builds the admin API's views from the store and the controller: plain functions, so tests call them too.
struct AdminSnapshot {
    let store: RecordStore
    let members: @Sendable () -> [MemberStatus]
    /// The tunnel listener's view of each tunnel member (empty without a `tunnel:` block).
    var tunnels: @Sendable () -> [TunnelConnectionStatus] = { [] }
    /// The host cluster's leader election and status writer (nil without a `host:` block).
    var host: @Sendable () -> HostStatus? = { nil }

    func records(namespace: String? = nil, name: String? = nil) -> AdminViews.Records {
        func wanted(_ key: ServiceKey) -> Bool {
            (namespace == nil || key.namespace == namespace) && (name == nil || key.name == name)
        }
        guard let state = store.liveState(namesOf: wanted) else {
            return AdminViews.Records(serial: store.current().serial, warmStart: false, records: [])
        }
        let keys = state.records.keys.sorted().filter(wanted)
        let rules = RecordNames(naming: state.naming, clusters: state.clusters)
        let records = keys.map { key in
            let record = state.records[key]!
            let serving = rules.serving(record)
            return AdminViews.Record(
                namespace: key.namespace,
                name: key.name,
                spec: record.spec,
                status: record.status,
                names: (state.names[key] ?? []).map(\.description),
                problems: state.problems[key] ?? [],
                restored: state.unconfirmed.contains(key),
                serving: serving.serving.map(\.rawValue),
                stale: serving.stale.map(\.rawValue),
                offline: serving.offline.map(\.rawValue),
                drained: serving.drained.isEmpty ? nil : serving.drained.map(\.rawValue),
                allDrained: serving.allDrained ? true : nil,
                ttl: serving.ttl
            )
        }
        return AdminViews.Records(serial: state.serial, warmStart: state.warmStart, records: records)
    }

    func clusters() -> AdminViews.Clusters {
        let state = store.liveState()
        let statuses = members()
        var services: [ClusterID: Int] = [:]
        for record in state?.records.values ?? [] {
            for dns in record.status.dns { services[dns.cluster, default: 0] += 1 }
        }
        let tunnelStatus = Dictionary(tunnels().map { ($0.cluster, $0) }, uniquingKeysWith: { _, last in last })
        var result: [AdminViews.Cluster] = statuses.map { status in
            let info = state?.clusters[status.cluster]
            let locality = info?.locality ?? status.locality
            let answerLink = info?.link ?? status.link
            var states: [AdminViews.MemberCondition] = []
            var tunnel: AdminViews.Tunnel? = nil
            if status.sourceKind == "tunnel" {
                let current = tunnelStatus[status.cluster.rawValue]
                tunnel = current.map {
                    AdminViews.Tunnel(connected: $0.connected, since: $0.since.timeIntervalSince1970,
                                      remoteAddress: $0.remoteAddress, authentication: $0.authentication,
                                      lastError: $0.lastError, sessionsAccepted: $0.sessionsAccepted)
                }
                states.append(Self.condition("TunnelConnected", current?.connected == true,
                                             current.map { $0.connected ? "agent at \($0.remoteAddress ?? "?")"
                                                 : ($0.lastError ?? "no agent connected") } ?? "no agent has connected yet"))
            }
            states.append(Self.condition("WatchesSynced", status.everSynced && status.link == .synced,
                                         "the source reports \(status.link.rawValue)"
                                             + (status.everSynced ? "" : ", never synced")))
            states.append(Self.condition("RecordsFresh", answerLink == .synced,
                                         answerLink == .synced ? "answers use current data"
                                             : "answers use \(answerLink.rawValue) data"))
            return AdminViews.Cluster(
                name: status.cluster.rawValue,
                sourceKind: status.sourceKind,
                source: status.source,
                link: (info?.link ?? status.link).rawValue,
                sourceLink: status.link.rawValue,
                everSynced: status.everSynced,
                lastSync: status.lastSync,
                lastEvent: status.lastEvent,
                region: locality.region,
                zone: locality.zone,
                objects: status.objects,
                services: services[status.cluster] ?? 0,
                conditions: status.conditions,
                states: states,
                tunnel: tunnel,
                drained: status.drain == nil ? nil : true,
                drainedBy: status.drain?.origin.rawValue,
                drainReason: status.drain?.reason
            )
        }
        // Members known only from the state file (removed from the configuration, or before a reload).
        let known = Set(statuses.map(\.cluster))
        for info in (state?.clusters.values.sorted { $0.id < $1.id } ?? []) where !known.contains(info.id) {
            result.append(
                AdminViews.Cluster(
                    name: info.id.rawValue,
                    sourceKind: "restored",
                    source: "state file",
                    link: info.link.rawValue,
                    sourceLink: nil,
                    everSynced: false,
                    lastSync: nil,
                    lastEvent: nil,
                    region: info.locality.region,
                    zone: info.locality.zone,
                    objects: [:],
                    services: services[info.id] ?? 0,
                    conditions: ["known only from the state file"]
                )
            )
        }
        return AdminViews.Clusters(serial: state?.serial ?? store.current().serial, clusters: result, host: host())
    }

    enum ExplainFailure: Error {
        case badRequest(String)
        case notLive
    }

    func explain(name: String?, type: String?, cluster: String?) throws(ExplainFailure) -> Explanation {
        guard let name, !name.isEmpty else { throw .badRequest("missing ?name=: the DNS name to explain") }
        let domain: DomainName
        do {
            domain = try DomainName(name)
        } catch {
            throw .badRequest("\(name) is not a DNS name: \(error)")
        }
        var rrtype = RRType.a
        if let type, !type.isEmpty {
            guard let parsed = RRType(mnemonic: type) else {
                throw .badRequest("\(type) is not a record type (A, AAAA, SRV, TXT, CNAME, TYPE65280…)")
            }
            rrtype = parsed
        }
        let requester = cluster.flatMap { $0.isEmpty ? nil : ClusterID($0) }
        let result = store.withLiveTable { table, serial -> Result<Explanation, ExplainFailure> in
            if let requester, table.clusters[requester] == nil {
                let known = table.clusters.keys.sorted().map(\.rawValue).joined(separator: ", ")
                return .failure(.badRequest("unknown cluster \(requester); known: \(known)"))
            }
            return .success(table.explain(domain, rrtype, requester: requester, serial: serial))
        }
        guard let result else { throw .notLive }
        return try result.get()
    }

    private static func condition(_ type: String, _ holds: Bool, _ message: String) -> AdminViews.MemberCondition {
        AdminViews.MemberCondition(type: type, status: Condition.Status(holds), message: message)
    }
}
