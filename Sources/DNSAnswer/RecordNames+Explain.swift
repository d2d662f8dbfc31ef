public import DNSWire
public import MCDNSModel

extension LiveTable {
    /// Explains the answer to (`name`, `type`) asked by a requester in `requester` (nil: unknown requester), from
    /// the same naming rules and contents the table was compiled from. Pure: reads the table, changes nothing.
    public func explain(_ name: DomainName, _ type: RRType, requester: ClusterID?, serial: UInt32) -> Explanation {
        let owner = self.owner(of: name)
        // The table keeps only the names; the live name (its variants, whether it is degraded) is made again from
        // the owner's record by the same rules the compile used.
        let live = owner.flatMap { records[$0] }.flatMap { record in
            RecordNames(naming: naming, clusters: clusters).names(for: record).names.first { $0.name == name }
        }
        var override: [RRType: [ResourceRecord]]? = nil
        if let requester, let variant = live?.variants[requester] { override = variant }
        let resolved = resolve(name, type, override: override)
        let zone = staticZoneOrigins.first { name.isSubdomain(of: $0) }
        var explanation = Explanation(
            name: name.description,
            type: type.description,
            requester: requester?.rawValue,
            serial: serial,
            zone: zone?.description,
            service: owner.map { $0.description },
            kind: zone == nil ? "none" : "static",
            resolution: "\(resolved.resolution)",
            rcode: resolved.rcode,
            answer: resolved.answer.map { $0.presentation ?? "\($0.owner) \($0.type)" },
            authority: resolved.authority.map { $0.presentation ?? "\($0.owner) \($0.type)" },
            ttl: resolved.answer.first?.ttl ?? resolved.authority.first(where: { $0.type == .soa })?.ttl,
            degraded: live?.degraded ?? false,
            step: "",
            candidates: []
        )
        guard let key = owner, let record = records[key] else {
            explanation.step =
                zone == nil
                ? "outside every served zone: REFUSED"
                : "no service owns this name: answered from the zone file contents"
            return explanation
        }
        let rules = RecordNames(naming: naming, clusters: clusters)
        rules.explain(record, name: name, requester: requester.flatMap { clusters[$0] }, into: &explanation)
        if override != nil, let requester { explanation.step += " (answer specific to requester \(requester))" }
        return explanation
    }
}

extension RecordNames {
    /// Fills in the kind, the candidates and the step for a name of `record` (DESIGN §4.1, §4.2).
    func explain(
        _ record: ServiceDNSRecord,
        name: DomainName,
        requester: ClusterInfo?,
        into explanation: inout Explanation
    ) {
        let selection = healthyTargets(record, useEndpoints: record.status.headless)
        let allHealthy = selection.answering
        let healthyIDs = Set(allHealthy.map(\.cluster))
        let drainedIDs = Set(selection.drainedOut.map(\.cluster))
        let policy = record.spec.trafficPolicy ?? .nearest
        // The global name's targets under the policy (a failover's tier); weights leave no requester its own.
        let healthy = applying(policy, to: allHealthy)
        var levels = requester.map { ordered(healthy, for: $0) }
        if case .weighted = policy.strategy { levels = nil }
        explanation.candidates = record.status.dns.sorted { $0.cluster < $1.cluster }.map { dns in
            let state = link(dns)
            var reason: String
            switch verdict(dns, record) {
            case .offline:
                reason = "member is offline (link lost beyond the grace period, or never synced)"
            case .noReadyEndpoints:
                reason = "no ready endpoints"
            case .served, .stale:
                if drainedIDs.contains(dns.cluster) {
                    reason = (clusters[dns.cluster]?.drain?.description ?? "drained") + ": left out of the answers"
                } else if !healthyIDs.contains(dns.cluster) {
                    reason = "no usable target address"
                } else if state == .stale {
                    reason = "link lost: last-known targets serve as stale (degraded TTL)"
                } else {
                    reason =
                        dns.readyEndpoints > 0 ? "\(dns.readyEndpoints) ready endpoint(s)" : "allowed without endpoints"
                }
                if selection.allDrained, let drain = clusters[dns.cluster]?.drain {
                    reason += "; \(drain.description), but every healthy cluster is drained: answering as if none were"
                }
            }
            var level: String? = nil
            if let levels, let index = levels.firstIndex(where: { $0.contains { $0.cluster == dns.cluster } }) {
                level = index < naming.localityPolicy.count ? naming.localityPolicy[index].rawValue : "global"
            }
            let targets =
                record.status.headless
                ? dns.endpoints.filter(\.ready).map(\.address.description)
                : (dns.loadBalancer.isEmpty
                    ? dns.clusterIPs.map(\.description) : dns.loadBalancer.compactMap { $0.ip?.description ?? $0.hostname })
            return Explanation.Candidate(
                cluster: dns.cluster.rawValue,
                region: dns.region,
                zone: dns.zone,
                link: state.rawValue,
                readyEndpoints: dns.readyEndpoints,
                healthy: healthyIDs.contains(dns.cluster),
                reason: reason,
                targets: targets,
                lastObserved: dns.lastObserved,
                level: level,
                drained: clusters[dns.cluster]?.drain == nil ? nil : true
            )
        }
        let (kind, region, zone) = classify(record, name)
        explanation.kind = kind
        defer {
            if selection.allDrained {
                explanation.step += " [every healthy cluster ("
                    + allHealthy.map(\.cluster.rawValue).joined(separator: ", ")
                    + ") is drained: answering as if none were]"
            } else if !drainedIDs.isEmpty {
                explanation.step += " [drained, left out: "
                    + drainedIDs.sorted().map(\.rawValue).joined(separator: ", ") + "]"
            }
        }
        explanation.strategy = policy.summary
        switch kind {
        case "global": explanation.policy = describe(policy, allHealthy)
        case "region": explanation.policy = describe(policy, allHealthy.filter { $0.region == region })
        case "zone": explanation.policy = describe(policy, allHealthy.filter { $0.region == region && $0.zone == zone })
        default: break
        }
        switch kind {
        case "global":
            if healthy.isEmpty {
                explanation.step =
                    "global: no healthy cluster anywhere: NODATA with the negative TTL (the service exists)"
            } else if let levels, let requester {
                let index = levels.firstIndex { !$0.isEmpty } ?? 0
                let level = index < naming.localityPolicy.count ? naming.localityPolicy[index].rawValue : "global"
                let clusters = levels[index].map(\.cluster.rawValue).joined(separator: ", ")
                explanation.step =
                    "global name asked from \(requester.id) (\(requester.locality)): policy "
                    + naming.localityPolicy.map(\.rawValue).joined(separator: "→")
                    + "; first level with healthy targets: \(level) (\(clusters))"
            } else {
                explanation.step =
                    "global: every healthy cluster (\(healthy.map(\.cluster.rawValue).joined(separator: ", ")))"
            }
        case "region":
            let inRegion = applying(policy, to: allHealthy.filter { $0.region == region })
            explanation.step =
                inRegion.isEmpty
                ? "region \(region ?? "?"): no healthy target in the region: region→global (CNAME, degraded TTL)"
                : "region \(region ?? "?"): healthy targets in the region (\(inRegion.map(\.cluster.rawValue).joined(separator: ", ")))"
        case "zone":
            let inRegion = applying(policy, to: allHealthy.filter { $0.region == region })
            let inZone = applying(policy, to: allHealthy.filter { $0.region == region && $0.zone == zone })
            if !inZone.isEmpty {
                explanation.step =
                    "zone \(zone ?? "?"): healthy targets in the zone (\(inZone.map(\.cluster.rawValue).joined(separator: ", ")))"
            } else if !inRegion.isEmpty {
                explanation.step = "zone \(zone ?? "?"): none healthy in the zone: zone→region (CNAME, degraded TTL)"
            } else {
                explanation.step =
                    "zone \(zone ?? "?"): none healthy in the zone or region: zone→region→global (CNAMEs, degraded TTL)"
            }
        case "external":
            explanation.step = "ExternalName service: CNAME to \(record.status.externalTarget ?? "?")"
        case "vanity":
            explanation.step = "dnsPrefix: CNAME to the global name"
        case "clusterset":
            explanation.step =
                record.status.headless
                ? "clusterset (headless): ready endpoints of every cluster not offline"
                : "clusterset: ClusterIPs of the healthy clusters"
                    + (requester.map { ", nearest to \($0.id) first" } ?? "")
        case "clusterset-srv":
            explanation.step = "clusterset SRV for a named port"
        case "clusterset-host":
            explanation.step = "clusterset: one headless endpoint by hostname"
        default:
            explanation.step = "a name of service \(record.key)"
        }
    }

    /// What `policy` does with the healthy targets of one level, in words (nil for nearest).
    func describe(_ policy: TrafficPolicy, _ targets: [Targets]) -> String? {
        let strategy = describe(policy.strategy, targets)
        guard let limit = policy.answers else { return strategy }
        let kept = "each answer holds only its first \(limit == 1 ? "address" : "\(limit) addresses") (answers: \(limit))"
        return strategy.map { $0 + "; " + kept } ?? kept
    }

    private func describe(_ strategy: TrafficPolicy.Strategy, _ targets: [Targets]) -> String? {
        switch strategy {
        case .nearest:
            return nil
        case .failover(let tiers):
            guard !targets.isEmpty else { return "\(tiers.joined(separator: " → ")): no healthy cluster at this level" }
            let (index, chosen) = Self.failoverTier(tiers, targets)
            let tier = index < tiers.count ? "tier \(index + 1) (\(tiers[index]))" : "the clusters no tier names"
            return "\(tiers.joined(separator: " → ")): \(tier) answers with "
                + chosen.map(\.cluster.rawValue).joined(separator: ", ")
        case .weighted(let weights):
            guard !targets.isEmpty else { return "no healthy cluster at this level" }
            let shares = Self.weights(weights, of: targets)
            let total = shares.reduce(0, +)
            guard total > 0 else { return "every healthy cluster weighs 0: they take turns evenly" }
            return "first place among the healthy: "
                + zip(targets, shares).map { target, share in
                    "\(target.cluster) \(Int((share / total * 100).rounded()))%"
                }.joined(separator: ", ")
        }
    }

    /// Which of the service's names `name` is, with the region and zone labels of a region or zone name.
    func classify(_ record: ServiceDNSRecord, _ name: DomainName) -> (String, String?, String?) {
        if let domain = naming.federationDomain, let fed = naming.federationName, name.isSubdomain(of: domain) {
            let service = record.spec.externalName ?? record.key.name
            let labels = name.labels.map { String(decoding: $0, as: UTF8.self).lowercased() }
            let prefix = [service, record.key.namespace, fed, "svc"].map { $0.lowercased() }
            let extra = labels.count - domain.labelCount - prefix.count
            if labels.count >= prefix.count, Array(labels.prefix(prefix.count)) == prefix, extra >= 0, extra <= 2 {
                if record.status.externalTarget != nil { return ("external", nil, nil) }
                switch extra {
                case 0: return ("global", nil, nil)
                case 1: return ("region", labels[prefix.count], nil)
                default: return ("zone", labels[prefix.count + 1], labels[prefix.count])
                }
            }
            return ("vanity", nil, nil)
        }
        if let domain = naming.clustersetDomain, name.isSubdomain(of: domain) {
            let extra = name.labelCount - domain.labelCount - 3
            if extra == 0 { return ("clusterset", nil, nil) }
            if let first = name.labels.first, first.first == UInt8(ascii: "_") { return ("clusterset-srv", nil, nil) }
            return ("clusterset-host", nil, nil)
        }
        return ("static", nil, nil)
    }
}
