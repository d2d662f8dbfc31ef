public import DNSWire
public import MCDNSModel

/// Turns one merged record into its live names (DESIGN §4.1 federation names, §4.2 clusterset names).
/// Pure: the same record, clusters and configuration always give the same names.
public struct RecordNames: Sendable {
    public let naming: NamingConfiguration
    public let clusters: [ClusterID: ClusterInfo]

    public init(naming: NamingConfiguration, clusters: [ClusterID: ClusterInfo]) {
        self.naming = naming
        self.clusters = clusters
    }

    /// Names that could not be made (a label too long, an unparsable address), for logs and conditions.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public var service: ServiceKey
        public var message: String
        public var description: String { "\(service): \(message)" }
    }

    /// One cluster's usable targets for a record.
    struct Targets: Equatable {
        var cluster: ClusterID
        var region: String
        var zone: String
        var addresses: [[UInt8]]
        var hostnames: [String]
        var stale: Bool
    }

    public func names(for record: ServiceDNSRecord) -> (names: [LiveName], problems: [Problem]) {
        var names: [LiveName] = []
        var problems: [Problem] = []
        do throws(WireError) {
            names += try federationNames(record)
            names += try clustersetNames(record)
        } catch {
            problems.append(Problem(service: record.key, message: "cannot form a DNS name: \(error)"))
            return ([], problems)
        }
        return (names, problems)
    }

    // MARK: - Health and targets

    /// The link a cluster's data in a record is answered with (`TargetServing.link`).
    func link(_ dns: ClusterDNS) -> LinkState {
        TargetServing.link(member: clusters[dns.cluster]?.link, recordStale: dns.stale)
    }

    /// Whether a cluster's targets serve the record, before draining (`TargetServing.verdict`).
    func verdict(_ dns: ClusterDNS, _ record: ServiceDNSRecord) -> TargetServing.Verdict {
        TargetServing.verdict(dns, member: clusters[dns.cluster], spec: record.spec)
    }

    func isDrained(_ targets: Targets) -> Bool { clusters[targets.cluster]?.drain != nil }

    /// The targets of every cluster whose verdict serves the record and that has a usable target, before draining.
    func servingTargets(_ record: ServiceDNSRecord, useEndpoints: Bool) -> [Targets] {
        var result: [Targets] = []
        for dns in record.status.dns.sorted(by: { $0.cluster < $1.cluster }) {
            let health = verdict(dns, record)
            guard health.serves else { continue }
            var addresses: [[UInt8]] = []
            var hostnames: [String] = []
            if useEndpoints {
                addresses = dns.endpoints.filter(\.ready).map(\.address.bytes)
            } else if !dns.loadBalancer.isEmpty {
                addresses = dns.loadBalancer.compactMap { $0.ip?.bytes }
                hostnames = dns.loadBalancer.compactMap(\.hostname)
            } else {
                addresses = dns.clusterIPs.map(\.bytes)
            }
            guard !addresses.isEmpty || !hostnames.isEmpty else { continue }
            result.append(Targets(cluster: dns.cluster, region: dns.region, zone: dns.zone, addresses: addresses,
                                  hostnames: hostnames, stale: health == .stale))
        }
        return result
    }

    /// The targets the record's federation names answer with: the serving ones, drained clusters left out
    /// unless every serving cluster is drained (`TargetServing.selecting`).
    func healthyTargets(_ record: ServiceDNSRecord, useEndpoints: Bool) -> TargetServing.Selection<Targets> {
        TargetServing.selecting(servingTargets(record, useEndpoints: useEndpoints), drained: isDrained)
    }

    func ttl(_ record: ServiceDNSRecord) -> UInt32 { record.spec.recordTTL ?? naming.recordTTL }

    /// A and AAAA (or a CNAME to a load balancer hostname when there is no address) for a set of targets.
    /// With a weighted `policy`, also the picks of who comes first (`weightPicks`); with `answers: N`, the limit
    /// (`RRType.answerLimit`), which also holds for the name's requester variants.
    func rrsets(_ owner: DomainName, _ targets: [Targets], ttl recordTTL: UInt32,
                policy: TrafficPolicy = .nearest) throws(WireError) -> [RRType: [ResourceRecord]] {
        let ttl = TargetServing.ttl(record: recordTTL, degraded: naming.degradedTTL, stale: targets.contains(where: \.stale))
        var seen = Set<[UInt8]>()
        var a: [ResourceRecord] = [], aaaa: [ResourceRecord] = []
        for address in targets.flatMap(\.addresses) where seen.insert(address).inserted {
            if address.count == 4 { a.append(.a(owner, ttl: ttl, address)) } else { aaaa.append(.aaaa(owner, ttl: ttl, address)) }
        }
        var result: [RRType: [ResourceRecord]] = [:]
        if !a.isEmpty { result[.a] = a }
        if !aaaa.isEmpty { result[.aaaa] = aaaa }
        if result.isEmpty, let hostname = targets.flatMap(\.hostnames).first {
            result[.cname] = [.cname(owner, ttl: ttl, target: try DomainName(hostname))]
        }
        if case .weighted(let weights) = policy.strategy, !result.isEmpty, result[.cname] == nil {
            let picks = weightPicks(owner, targets, weights: Self.weights(weights, of: targets), ttl: ttl)
            if !picks.isEmpty { result[.rotationWeights] = picks }
        }
        // Only where there is more than the limit: an RRset within it is served whole anyway.
        if let limit = policy.answers, (result[.a]?.count ?? 0) > limit || (result[.aaaa]?.count ?? 0) > limit {
            result[.answerLimit] = [ResourceRecord(owner: owner, type: .answerLimit, ttl: ttl,
                                                   rdata: [UInt8(limit >> 8), UInt8(limit & 0xFF)])]
        }
        return result
    }

    /// Targets ordered for a requester in `cluster`: the levels of `locality.policy` in order, nearest first.
    func ordered(_ targets: [Targets], for requester: ClusterInfo) -> [[Targets]] {
        var remaining = targets
        var levels: [[Targets]] = []
        for level in naming.localityPolicy {
            let (taken, rest) = remaining.partitioned { target in
                switch level {
                case .cluster: return target.cluster == requester.id
                case .zone: return target.region == requester.locality.region && target.zone == requester.locality.zone
                case .region: return target.region == requester.locality.region
                case .global: return true
                }
            }
            levels.append(taken)
            remaining = rest
        }
        if !remaining.isEmpty { levels.append(remaining) }
        return levels
    }

    // MARK: - Federation names (§4.1)

    func federationNames(_ record: ServiceDNSRecord) throws(WireError) -> [LiveName] {
        guard let fed = naming.federationName, let domain = naming.federationDomain else { return [] }
        let service = record.spec.externalName ?? record.key.name
        func name(_ suffix: [String]) throws(WireError) -> DomainName {
            var result = domain
            for label in suffix.reversed() { result = try result.prepending(label) }
            for label in ["svc", fed, record.key.namespace, service] { result = try result.prepending(label) }
            return result
        }
        let ttl = ttl(record)
        let global = try name([])
        var names: [LiveName] = []

        if let external = record.status.externalTarget {
            let target = try DomainName(external)
            var regionNames: [DomainName] = []
            for dns in record.status.dns {
                regionNames.append(try name([dns.region]))
                regionNames.append(try name([dns.zone, dns.region]))
            }
            for owner in [global] + Set(regionNames).sorted() {
                names.append(LiveName(name: owner, rrsets: [.cname: [.cname(owner, ttl: ttl, target: target)]]))
            }
            if let prefix = record.spec.dnsPrefix { names.append(try vanity(prefix, domain, global, ttl)) }
            return names
        }

        let healthy = healthyTargets(record, useEndpoints: record.status.headless).answering
        let policy = record.spec.trafficPolicy ?? .nearest
        let targets = applying(policy, to: healthy)
        var globalName = LiveName(name: global, rrsets: try rrsets(global, targets, ttl: ttl, policy: policy),
                                  negativeTTL: naming.negativeTTL)
        globalName.degraded = targets.contains(where: \.stale)
        // Weights decide who comes first for every requester: no nearest-first answers of their own.
        let requesterAware: Bool
        if case .weighted = policy.strategy { requesterAware = false } else { requesterAware = true }
        for (id, info) in clusters.sorted(by: { $0.key < $1.key }) where requesterAware {
            guard let nearest = ordered(targets, for: info).first(where: { !$0.isEmpty }) else { continue }
            // Every target is nearest (levels keep the targets' order): the variant would be the main answer.
            // Most requesters of most services land here, so the records are not built just to be compared.
            if nearest.count == targets.count { continue }
            // A variant is the RRsets its requester gets instead, so it carries the answer limit of its own.
            let variant = try rrsets(global, nearest, ttl: ttl, policy: TrafficPolicy(.nearest, answers: policy.answers))
            if variant != globalName.rrsets { globalName.variants[id] = variant }
        }
        names.append(globalName)

        // Region and zone names exist for every cluster that exports the service, offline ones included.
        var regions: [String: Set<String>] = [:]
        for dns in record.status.dns { regions[dns.region, default: []].insert(dns.zone) }
        for (region, zones) in regions.sorted(by: { $0.key < $1.key }) {
            let regionOwner = try name([region])
            // The policy applies within the level: a region's name answers with the region's clusters only.
            let inRegionHealthy = healthy.filter { $0.region == region }
            let inRegion = applying(policy, to: inRegionHealthy)
            if inRegion.isEmpty {
                names.append(LiveName(name: regionOwner,
                                      rrsets: [.cname: [.cname(regionOwner, ttl: naming.degradedTTL, target: global)]],
                                      degraded: true))
            } else {
                names.append(LiveName(name: regionOwner, rrsets: try rrsets(regionOwner, inRegion, ttl: ttl, policy: policy),
                                      negativeTTL: naming.negativeTTL, degraded: inRegion.contains(where: \.stale)))
            }
            for zone in zones.sorted() {
                let zoneOwner = try name([zone, region])
                let inZone = applying(policy, to: inRegionHealthy.filter { $0.zone == zone })
                if inZone.isEmpty {
                    names.append(LiveName(name: zoneOwner,
                                          rrsets: [.cname: [.cname(zoneOwner, ttl: naming.degradedTTL, target: regionOwner)]],
                                          degraded: true))
                } else {
                    names.append(LiveName(name: zoneOwner, rrsets: try rrsets(zoneOwner, inZone, ttl: ttl, policy: policy),
                                          negativeTTL: naming.negativeTTL, degraded: inZone.contains(where: \.stale)))
                }
            }
        }
        if let prefix = record.spec.dnsPrefix { names.append(try vanity(prefix, domain, global, ttl)) }
        return names
    }

    func vanity(_ prefix: String, _ domain: DomainName, _ global: DomainName, _ ttl: UInt32) throws(WireError) -> LiveName {
        var owner = domain
        for label in prefix.split(separator: ".").reversed() { owner = try owner.prepending(String(label)) }
        return LiveName(name: owner, rrsets: [.cname: [.cname(owner, ttl: ttl, target: global)]])
    }

    // MARK: - clusterset.local names (§4.2, MCS DNS specification 1.0.0)

    func clustersetNames(_ record: ServiceDNSRecord) throws(WireError) -> [LiveName] {
        guard let domain = naming.clustersetDomain, record.status.externalTarget == nil else { return [] }
        let owner = try domain.prepending("svc").prepending(record.key.namespace).prepending(record.key.name)
        let ttl = ttl(record)
        var names: [LiveName] = []
        var srvTargets: [(target: DomainName, stale: Bool)] = []

        let targets: [Targets]
        if record.status.headless {
            // Ready endpoints of every cluster that is not offline; no ready endpoint anywhere: no name (NXDOMAIN).
            let serving = record.status.dns.sorted { $0.cluster < $1.cluster }.compactMap { dns -> Targets? in
                let state = link(dns)
                guard state != .offline else { return nil }
                let ready = dns.endpoints.filter(\.ready).map(\.address.bytes)
                guard !ready.isEmpty else { return nil }
                return Targets(cluster: dns.cluster, region: dns.region, zone: dns.zone, addresses: ready,
                               hostnames: [], stale: state == .stale)
            }
            targets = TargetServing.selecting(serving, drained: isDrained).answering
            guard !targets.isEmpty else { return [] }
            // A drained cluster's endpoints keep their own names (asking for one pod asks for that pod) but leave
            // the SRV answers, as they leave the service's name.
            let answering = Set(targets.map(\.cluster))
            for dns in record.status.dns.sorted(by: { $0.cluster < $1.cluster }) where link(dns) != .offline {
                let clusterOwner = try owner.prepending(dns.cluster.rawValue)
                var byHost: [String: [[UInt8]]] = [:]
                for endpoint in dns.endpoints where endpoint.ready {
                    let host = endpoint.hostname ?? Self.dashed(endpoint.address.description)
                    byHost[host, default: []].append(endpoint.address.bytes)
                }
                for (host, addresses) in byHost.sorted(by: { $0.key < $1.key }) {
                    let hostOwner = try clusterOwner.prepending(host)
                    let single = Targets(cluster: dns.cluster, region: dns.region, zone: dns.zone, addresses: addresses,
                                         hostnames: [], stale: link(dns) == .stale)
                    names.append(LiveName(name: hostOwner, rrsets: try rrsets(hostOwner, [single], ttl: ttl),
                                          negativeTTL: naming.negativeTTL))
                    if answering.contains(dns.cluster) { srvTargets.append((hostOwner, single.stale)) }
                }
            }
        } else {
            let serving = servingTargets(record, useEndpoints: false).map { target in
                // clusterset names carry ClusterIPs (pods reach other clusters' service networks), not LB addresses.
                var copy = target
                let dns = record.status.dns.first { $0.cluster == target.cluster }
                copy.addresses = (dns?.clusterIPs ?? []).map(\.bytes)
                copy.hostnames = []
                return copy
            }.filter { !$0.addresses.isEmpty }
            targets = TargetServing.selecting(serving, drained: isDrained).answering
            if !targets.isEmpty { srvTargets.append((owner, targets.contains(where: \.stale))) }
        }

        var main = LiveName(name: owner, rrsets: try rrsets(owner, targets, ttl: ttl), negativeTTL: naming.negativeTTL)
        main.degraded = targets.contains(where: \.stale)
        for (id, info) in clusters.sorted(by: { $0.key < $1.key }) {
            let nearestFirst = ordered(targets, for: info).flatMap { $0 }
            // The same targets in the same order give the main answer: skip building it to compare.
            if nearestFirst.elementsEqual(targets, by: { $0.cluster == $1.cluster }) { continue }
            let variant = try rrsets(owner, nearestFirst, ttl: ttl)
            if variant != main.rrsets { main.variants[id] = variant }
        }
        names.append(main)

        guard !srvTargets.isEmpty else { return names }
        let srvTTL = TargetServing.ttl(record: ttl, degraded: naming.degradedTTL, stale: srvTargets.contains(where: \.stale))
        for (portName, proto, numbers) in Self.srvPorts(record.status.ports) {
            let srvOwner = try owner.prepending("_" + proto).prepending("_" + portName)
            let records = numbers.flatMap { number in
                srvTargets.map { target in
                    ResourceRecord(owner: srvOwner, type: .srv, ttl: srvTTL,
                                   rdata: [0, 0, 0, 100, UInt8(number >> 8 & 0xFF), UInt8(number & 0xFF)]
                                       + target.target.wire)
                }
            }
            names.append(LiveName(name: srvOwner, rrsets: [.srv: records], negativeTTL: naming.negativeTTL))
        }
        return names
    }

    /// The SRV names of a record's ports (§4.2: named ports only): one per port name and protocol (lowercased,
    /// as it appears in the owner), holding every port number the members export under it, ascending. Ports are
    /// the union by (name, protocol, port), so members that disagree on a number give one RRset with both, one
    /// record per number and target, rather than two names with the same owner.
    static func srvPorts(_ ports: [ServicePort]) -> [(name: String, protocol: String, numbers: [Int])] {
        var result: [(name: String, protocol: String, numbers: [Int])] = []
        for port in ports {
            guard let name = port.name else { continue }
            let proto = port.protocol.lowercased()
            if let i = result.firstIndex(where: { $0.name == name && $0.protocol == proto }) {
                if !result[i].numbers.contains(port.port) { result[i].numbers.append(port.port) }
            } else {
                result.append((name, proto, [port.port]))
            }
        }
        return result.map { ($0.name, $0.protocol, $0.numbers.sorted()) }
    }

    /// `10.1.2.3` → `10-1-2-3`, `fd00::1` → `fd00--1`: the name of an endpoint without a hostname.
    static func dashed(_ address: String) -> String {
        String(address.map { $0 == "." || $0 == ":" ? "-" : $0 })
    }
}

extension Array {
    func partitioned(_ belongs: (Element) -> Bool) -> ([Element], [Element]) {
        var yes: [Element] = [], no: [Element] = []
        for element in self { if belongs(element) { yes.append(element) } else { no.append(element) } }
        return (yes, no)
    }
}
