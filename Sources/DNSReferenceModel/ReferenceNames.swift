public import DNSWire
public import MCDNSModel

/// One owner name the model serves for a service: its RRsets for anyone, what each known cluster gets instead
/// (only where that differs), and the SOA TTL of NODATA there.
public struct ReferenceNode: Sendable, Equatable {
    public var rrsets: [RRType: [ResourceRecord]]
    public var byRequester: [ClusterID: [RRType: [ResourceRecord]]] = [:]
    public var negativeTTL: UInt32?

    public init(rrsets: [RRType: [ResourceRecord]], negativeTTL: UInt32? = nil) {
        self.rrsets = rrsets
        self.negativeTTL = negativeTTL
    }
}

/// DESIGN §4.1 and §4.2 written out directly: a record and the members in, owner names and RRsets out.
/// Written for reading, not speed: every rule is one plain step.
struct ReferenceNames {
    let naming: ReferenceNaming
    let members: [ClusterID: ClusterInfo]

    /// One member's usable targets for a record.
    struct Target {
        var cluster: ClusterID
        var region: String
        var zone: String
        var addresses: [[UInt8]]
        var hostnames: [String]
        var stale: Bool
    }

    /// A member's link as it applies to one record: the member list says synced, stale or offline; a record
    /// marked stale for a synced member is stale; a member not in the list follows the record's mark.
    func link(_ dns: ClusterDNS) -> LinkState {
        guard let member = members[dns.cluster] else { return dns.stale ? .stale : .synced }
        if member.link == .synced && dns.stale { return .stale }
        return member.link
    }

    func recordTTL(_ record: ServiceDNSRecord) -> UInt32 { record.spec.recordTTL ?? naming.recordTTL }

    /// §4.1 "targets by service kind", for members that are not offline and have ready endpoints (or the record
    /// allows none), in member order.
    func healthy(_ record: ServiceDNSRecord) -> [Target] {
        var result: [Target] = []
        for dns in record.status.dns.sorted(by: { $0.cluster < $1.cluster }) {
            let state = link(dns)
            if state == .offline { continue }
            if dns.readyEndpoints == 0 && !record.spec.allowServiceWithoutEndpoints { continue }
            var target = Target(cluster: dns.cluster, region: dns.region, zone: dns.zone, addresses: [], hostnames: [],
                                stale: state == .stale)
            if record.status.headless {
                for endpoint in dns.endpoints where endpoint.ready {
                    target.addresses.append(endpoint.address.bytes)
                }
            } else if !dns.loadBalancer.isEmpty {
                for ingress in dns.loadBalancer {
                    if let ip = ingress.ip { target.addresses.append(ip.bytes) }
                    if let hostname = ingress.hostname { target.hostnames.append(hostname) }
                }
            } else {
                for ip in dns.clusterIPs {
                    target.addresses.append(ip.bytes)
                }
            }
            if target.addresses.isEmpty && target.hostnames.isEmpty { continue }
            result.append(target)
        }
        return result
    }

    /// README "Draining": targets of drained members leave, unless every target's member is drained (then none
    /// leaves: draining alone never empties an answer).
    func withoutDrained(_ targets: [Target]) -> [Target] {
        let kept = targets.filter { members[$0.cluster]?.drain == nil }
        return kept.isEmpty ? targets : kept
    }

    /// The address records of `targets` at `owner` (each address once, in order); with no address at all, a CNAME
    /// to the first load balancer hostname. Any stale target makes the TTL the degraded one (if shorter).
    func addressRecords(_ owner: DomainName, _ targets: [Target], ttl: UInt32) throws(WireError) -> [RRType: [ResourceRecord]] {
        var effective = ttl
        for target in targets where target.stale { effective = min(ttl, naming.degradedTTL) }
        var a: [ResourceRecord] = []
        var aaaa: [ResourceRecord] = []
        var seen: [[UInt8]] = []
        for target in targets {
            for address in target.addresses where !seen.contains(address) {
                seen.append(address)
                if address.count == 4 {
                    a.append(ResourceRecord(owner: owner, type: .a, ttl: effective, rdata: address))
                } else {
                    aaaa.append(ResourceRecord(owner: owner, type: .aaaa, ttl: effective, rdata: address))
                }
            }
        }
        var result: [RRType: [ResourceRecord]] = [:]
        if !a.isEmpty { result[.a] = a }
        if !aaaa.isEmpty { result[.aaaa] = aaaa }
        if a.isEmpty && aaaa.isEmpty {
            for target in targets {
                if let hostname = target.hostnames.first {
                    result[.cname] = [cname(owner, ttl: effective, to: try DomainName(hostname))]
                    break
                }
            }
        }
        return result
    }

    /// README "Traffic policies", `answers: N`: a federation name's A and AAAA answers hold only their first N
    /// records. The model knows it with the nearest strategy, the only one its sequences set (weighted and
    /// failover are `TrafficPolicyTests`' and the end-to-end tests' business), so "first" is the order above.
    func limited(_ rrsets: [RRType: [ResourceRecord]], _ record: ServiceDNSRecord) -> [RRType: [ResourceRecord]] {
        guard let limit = record.spec.trafficPolicy?.answers else { return rrsets }
        var result = rrsets
        for type in [RRType.a, .aaaa] {
            if let set = result[type], set.count > limit { result[type] = Array(set.prefix(limit)) }
        }
        return result
    }

    func cname(_ owner: DomainName, ttl: UInt32, to target: DomainName) -> ResourceRecord {
        ResourceRecord(owner: owner, type: .cname, ttl: ttl, rdata: target.wire, compressibleNames: [0])
    }

    /// Does `target` sit at `level` for a requester in `member`?
    func matches(_ target: Target, _ level: ReferenceNaming.Level, _ member: ClusterInfo) -> Bool {
        switch level {
        case .cluster: return target.cluster == member.id
        case .zone: return target.region == member.locality.region && target.zone == member.locality.zone
        case .region: return target.region == member.locality.region
        case .global: return true
        }
    }

    /// The targets grouped by the policy's levels for a requester in `member`, nearest level first; targets no
    /// level takes form a last group. Each target appears once, in the first level that takes it.
    func levels(_ targets: [Target], for member: ClusterInfo) -> [[Target]] {
        var left = targets
        var groups: [[Target]] = []
        for level in naming.policy {
            groups.append(left.filter { matches($0, level, member) })
            left.removeAll { matches($0, level, member) }
        }
        groups.append(left)
        return groups
    }

    /// Every name of `record`, or none when one of them cannot be formed (a label or a name too long).
    func names(of record: ServiceDNSRecord) -> [(DomainName, ReferenceNode)] {
        do throws(WireError) {
            return try federation(record) + clusterset(record)
        } catch {
            return []
        }
    }

    // MARK: - §4.1

    func federation(_ record: ServiceDNSRecord) throws(WireError) -> [(DomainName, ReferenceNode)] {
        guard let fed = naming.federationName, let domain = naming.federationDomain else { return [] }
        let service = record.spec.externalName ?? record.key.name
        let base = "\(service).\(record.key.namespace).\(fed).svc"
        func name(_ middle: String?) throws(WireError) -> DomainName {
            try DomainName(base + (middle.map { "." + $0 } ?? "") + "." + domain.description)
        }
        let ttl = recordTTL(record)
        let global = try name(nil)
        var result: [(DomainName, ReferenceNode)] = []
        // Region and zone names of every exporting member, offline or not.
        var regionZones: [String: Set<String>] = [:]
        for dns in record.status.dns { regionZones[dns.region, default: []].insert(dns.zone) }

        if let external = record.status.externalTarget {
            let target = try DomainName(external)
            var owners: [DomainName] = [global]
            for (region, zones) in regionZones {
                owners.append(try name(region))
                for zone in zones { owners.append(try name(zone + "." + region)) }
            }
            for owner in owners {
                result.append((owner, ReferenceNode(rrsets: [.cname: [cname(owner, ttl: ttl, to: target)]])))
            }
        } else {
            let targets = withoutDrained(healthy(record))
            var globalNode = ReferenceNode(rrsets: limited(try addressRecords(global, targets, ttl: ttl), record),
                                           negativeTTL: naming.negativeTTL)
            // §4.1: a known requester asking the global name gets the nearest level with healthy targets.
            for (id, member) in members {
                guard let nearest = levels(targets, for: member).first(where: { !$0.isEmpty }) else { continue }
                let answer = limited(try addressRecords(global, nearest, ttl: ttl), record)
                if answer != globalNode.rrsets { globalNode.byRequester[id] = answer }
            }
            result.append((global, globalNode))
            for (region, zones) in regionZones {
                let regionOwner = try name(region)
                let inRegion = targets.filter { $0.region == region }
                if inRegion.isEmpty {
                    result.append((regionOwner, ReferenceNode(
                        rrsets: [.cname: [cname(regionOwner, ttl: naming.degradedTTL, to: global)]])))
                } else {
                    result.append((regionOwner, ReferenceNode(rrsets: limited(try addressRecords(regionOwner, inRegion, ttl: ttl), record),
                                                              negativeTTL: naming.negativeTTL)))
                }
                for zone in zones {
                    let zoneOwner = try name(zone + "." + region)
                    let inZone = inRegion.filter { $0.zone == zone }
                    if inZone.isEmpty {
                        result.append((zoneOwner, ReferenceNode(
                            rrsets: [.cname: [cname(zoneOwner, ttl: naming.degradedTTL, to: regionOwner)]])))
                    } else {
                        result.append((zoneOwner, ReferenceNode(rrsets: limited(try addressRecords(zoneOwner, inZone, ttl: ttl), record),
                                                                negativeTTL: naming.negativeTTL)))
                    }
                }
            }
        }
        if let prefix = record.spec.dnsPrefix {
            let vanity = try DomainName(prefix + "." + domain.description)
            result.append((vanity, ReferenceNode(rrsets: [.cname: [cname(vanity, ttl: ttl, to: global)]])))
        }
        return result
    }

    // MARK: - §4.2

    func clusterset(_ record: ServiceDNSRecord) throws(WireError) -> [(DomainName, ReferenceNode)] {
        guard let domain = naming.clustersetDomain, record.status.externalTarget == nil else { return [] }
        let owner = try DomainName("\(record.key.name).\(record.key.namespace).svc.\(domain.description)")
        let ttl = recordTTL(record)
        var result: [(DomainName, ReferenceNode)] = []
        // SRV targets with their staleness, in order.
        var srvTargets: [(DomainName, Bool)] = []
        var targets: [Target] = []
        let members = record.status.dns.sorted { $0.cluster < $1.cluster }

        if record.status.headless {
            // The ready endpoints of every member not offline; none anywhere: the service has no clusterset name.
            for dns in members where link(dns) != .offline {
                let ready = dns.endpoints.filter(\.ready).map(\.address.bytes)
                if ready.isEmpty { continue }
                targets.append(Target(cluster: dns.cluster, region: dns.region, zone: dns.zone, addresses: ready,
                                      hostnames: [], stale: link(dns) == .stale))
            }
            if targets.isEmpty { return [] }
            targets = withoutDrained(targets)
            for dns in members where link(dns) != .offline {
                // <hostname>.<clusterid>.<svc>.<ns>.svc.<domain>; an endpoint without a hostname is named by its
                // address with dashes.
                var byHost: [String: [[UInt8]]] = [:]
                for endpoint in dns.endpoints where endpoint.ready {
                    let text = endpoint.address.description
                    let host = endpoint.hostname ?? text.replacing(".", with: "-").replacing(":", with: "-")
                    byHost[host, default: []].append(endpoint.address.bytes)
                }
                for host in byHost.keys.sorted() {
                    let hostOwner = try DomainName("\(host).\(dns.cluster.rawValue).\(owner.description)")
                    let one = Target(cluster: dns.cluster, region: dns.region, zone: dns.zone,
                                     addresses: byHost[host]!, hostnames: [], stale: link(dns) == .stale)
                    result.append((hostOwner, ReferenceNode(rrsets: try addressRecords(hostOwner, [one], ttl: ttl),
                                                            negativeTTL: naming.negativeTTL)))
                    // A drained member's pods keep their names but are no SRV target.
                    if targets.contains(where: { $0.cluster == dns.cluster }) { srvTargets.append((hostOwner, one.stale)) }
                }
            }
        } else {
            // The ClusterIPs of the members where the service is healthy (whatever its kind).
            for target in healthy(record) {
                let dns = record.status.dns.first { $0.cluster == target.cluster }!
                let ips = dns.clusterIPs.map(\.bytes)
                if ips.isEmpty { continue }
                targets.append(Target(cluster: target.cluster, region: target.region, zone: target.zone,
                                      addresses: ips, hostnames: [], stale: target.stale))
            }
            targets = withoutDrained(targets)
            if !targets.isEmpty { srvTargets.append((owner, targets.contains { $0.stale })) }
        }

        var main = ReferenceNode(rrsets: try addressRecords(owner, targets, ttl: ttl), negativeTTL: naming.negativeTTL)
        // §4.2: nearest first for a known requester (every target, reordered).
        for (id, member) in self.members {
            let answer = try addressRecords(owner, levels(targets, for: member).flatMap { $0 }, ttl: ttl)
            if answer != main.rrsets { main.byRequester[id] = answer }
        }
        result.append((owner, main))

        // SRV for named ports only: one owner per port name and protocol; ports are the union by (name,
        // protocol, port), so its RRset holds every number under that name (ascending), and for each number one
        // record per target: priority 0, weight 100.
        let srvStale = srvTargets.contains { $0.1 }
        if !srvTargets.isEmpty {
            var numbers: [String: Set<Int>] = [:]
            for port in record.status.ports {
                guard let portName = port.name else { continue }
                numbers["_\(portName)._\(port.protocol.lowercased())", default: []].insert(port.port)
            }
            for (label, ports) in numbers.sorted(by: { $0.key < $1.key }) {
                let srvOwner = try DomainName("\(label).\(owner.description)")
                let records = ports.sorted().flatMap { port in
                    srvTargets.map { target, _ in
                        ResourceRecord(owner: srvOwner, type: .srv, ttl: srvStale ? min(ttl, naming.degradedTTL) : ttl,
                                       rdata: [0, 0, 0, 100, UInt8(port >> 8 & 0xFF), UInt8(port & 0xFF)] + target.wire,
                                       compressibleNames: [6])
                    }
                }
                result.append((srvOwner, ReferenceNode(rrsets: [.srv: records], negativeTTL: naming.negativeTTL)))
            }
        }
        return result
    }
}
