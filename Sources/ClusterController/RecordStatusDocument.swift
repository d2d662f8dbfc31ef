public import Foundation
public import KubeClient
public import MCDNSModel

/// Renders a merged record's status as the CRD's `status` (deploy/crd), the document the status writer PUTs.
///
/// Deterministic: equal records render equal trees, and a condition whose status did not change keeps the
/// `lastTransitionTime` the server holds, so re-rendering an unchanged record yields exactly what the server
/// has and nothing is written.
public enum RecordStatusDocument {
    public static func render(
        _ record: ServiceDNSRecord,
        observedGeneration: Int?,
        previous: KubeValue?,
        now: Date
    ) -> KubeValue {
        var status: [String: KubeValue] = [:]
        if let observedGeneration { status["observedGeneration"] = KubeValue(.int(observedGeneration)) }
        status["dns"] = KubeValue(.array(record.status.dns.map(cluster)))
        let ready = readyClusters(record)
        status["readyClusters"] = KubeValue(.string(ready.joined(separator: ",")))
        status["readyCount"] = KubeValue(.string("\(ready.count)/\(record.status.dns.count)"))
        status["headless"] = KubeValue(.bool(record.status.headless))
        if let target = record.status.externalTarget { status["externalTarget"] = KubeValue(.string(target)) }
        status["ports"] = KubeValue(
            .array(
                record.status.ports.map { port in
                    var fields: [String: KubeValue] = [
                        "protocol": KubeValue(.string(port.protocol)), "port": KubeValue(.int(port.port)),
                    ]
                    if let name = port.name, !name.isEmpty { fields["name"] = KubeValue(.string(name)) }
                    return KubeValue(.object(fields))
                }
            )
        )
        let previousConditions = previousConditions(previous)
        status["conditions"] = KubeValue(
            .array(
                record.status.conditions.map { condition in
                    var fields: [String: KubeValue] = [
                        "type": KubeValue(.string(condition.type)),
                        "status": KubeValue(.string(condition.status.rawValue)),
                        "reason": KubeValue(.string(condition.reason)),
                        "message": KubeValue(.string(condition.message)),
                    ]
                    // The transition time moves only when the condition's status does (Kubernetes' condition rule).
                    if let old = previousConditions[condition.type], old.status == condition.status, let time = old.time
                    {
                        fields["lastTransitionTime"] = KubeValue(.string(time))
                    } else {
                        fields["lastTransitionTime"] = KubeValue(.string(timestamp(now)))
                    }
                    if let observedGeneration { fields["observedGeneration"] = KubeValue(.int(observedGeneration)) }
                    return KubeValue(.object(fields))
                }
            )
        )
        return KubeValue(.object(status))
    }

    /// The clusters whose targets are current (not stale or offline) and usable: ready endpoints, an ExternalName
    /// record, or any target where the spec allows a service without endpoints. kubectl prints only the first
    /// item of a `[*]` column, so the printer columns read this summary instead of `dns[*].cluster`.
    static func readyClusters(_ record: ServiceDNSRecord) -> [String] {
        record.status.dns.filter { dns in
            if record.status.externalTarget != nil { return !dns.stale }
            let verdict = TargetServing.verdict(
                link: TargetServing.link(member: nil, recordStale: dns.stale),
                readyEndpoints: dns.readyEndpoints,
                allowsWithoutEndpoints: record.spec.allowServiceWithoutEndpoints
            )
            return verdict == .served && (dns.readyEndpoints > 0 || !dns.loadBalancer.isEmpty || !dns.clusterIPs.isEmpty)
        }.map(\.cluster.rawValue)
    }

    private static func cluster(_ dns: ClusterDNS) -> KubeValue {
        var fields: [String: KubeValue] = [
            "cluster": KubeValue(.string(dns.cluster.rawValue)),
            "zones": KubeValue(.array(dns.zones.map { KubeValue(.string($0)) })),
            "loadBalancer": KubeValue(
                .object([
                    "ingress": KubeValue(
                        .array(
                            dns.loadBalancer.map { ingress in
                                var entry: [String: KubeValue] = [:]
                                if let ip = ingress.ip { entry["ip"] = KubeValue(.string(ip.description)) }
                                if let hostname = ingress.hostname { entry["hostname"] = KubeValue(.string(hostname)) }
                                return KubeValue(.object(entry))
                            }
                        )
                    )
                ])
            ),
            "clusterIPs": KubeValue(.array(dns.clusterIPs.map { KubeValue(.string($0.description)) })),
            "readyEndpoints": KubeValue(.int(dns.readyEndpoints)),
            "endpoints": KubeValue(.int(dns.endpoints.count)),
            "stale": KubeValue(.bool(dns.stale)),
        ]
        if !dns.region.isEmpty { fields["region"] = KubeValue(.string(dns.region)) }
        if let observed = dns.lastObserved {
            fields["lastObserved"] = KubeValue(.string(timestamp(Date(timeIntervalSince1970: observed))))
        }
        return KubeValue(.object(fields))
    }

    private static func previousConditions(
        _ previous: KubeValue?
    ) -> [String: (status: Condition.Status?, time: String?)] {
        guard case .array(let items)? = previous?["conditions"]?.content else { return [:] }
        var result: [String: (status: Condition.Status?, time: String?)] = [:]
        for item in items {
            guard case .string(let type)? = item["type"]?.content else { continue }
            // A status outside the three is no status this condition had: its transition time moves.
            var status: Condition.Status?
            var time: String?
            if case .string(let text)? = item["status"]?.content { status = Condition.Status(rawValue: text) }
            if case .string(let text)? = item["lastTransitionTime"]?.content { time = text }
            result[type] = (status, time)
        }
        return result
    }

    /// RFC 3339 in UTC with whole seconds, as Kubernetes writes `metav1.Time`.
    static func timestamp(_ date: Date) -> String {
        Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)).formatted(.iso8601)
    }
}
