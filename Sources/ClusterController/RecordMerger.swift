import Foundation
public import KubeClient
public import MCDNSModel

/// The pure merge: every member's view of one service → one `ServiceDNSRecord`.
///
/// Conflicts between members never fail a merge: the oldest export decides (headlessness, service kind, spec
/// annotations), ports are the union, and each disagreement becomes a `Conflict` condition with a reason.
///
/// Offline members stay in `status.dns` with their endpoints as last observed, marked `stale`: the DNS side needs
/// to know the service exists in that member's region and zone, so those names keep existing and fall back to the
/// next level (DESIGN §4.1 "Offline clusters keep their zone/region names"), and it drops the member's targets by
/// its `ClusterInfo.link`. `readyEndpoints` is reported as observed, not zeroed.
public enum RecordMerger {
    public enum ConditionType {
        public static let ready = "Ready"
        public static let conflict = "Conflict"
        public static let degraded = "Degraded"
        /// A cluster that exports the service is drained (README "Draining").
        public static let drained = "Drained"
    }

    public enum DrainReason {
        /// Drained clusters are left out; others answer.
        public static let clusterDrained = "ClusterDrained"
        /// Every healthy cluster is drained: they all answer, as if none were.
        public static let allHealthyDrained = "AllHealthyDrained"
    }

    public enum Annotation {
        public static let ttl = "mcdns.io/ttl"
        public static let dnsPrefix = "mcdns.io/dns-prefix"
        public static let externalName = "mcdns.io/external-name"
        public static let allowServiceWithoutEndpoints = "mcdns.io/allow-service-without-endpoints"
        public static let trafficPolicy = "mcdns.io/traffic-policy"
    }

    private enum Kind: String {
        case clusterIP = "not headless"
        case headless = "headless"
        case externalName = "ExternalName"
    }

    /// `userSpec` is the spec of a ServiceDNSRecord a user created in the host cluster for this service: its set
    /// fields win over the members' `mcdns.io/*` annotations (allowServiceWithoutEndpoints: either may turn it
    /// on, since the CRD defaults it to false and an absent field cannot be told from a false one).
    public static func merge(
        key: ServiceKey,
        members: [MergeInput],
        userSpec: KubeServiceDNSRecord.Spec? = nil
    ) -> ServiceDNSRecord? {
        guard !members.isEmpty else { return nil }
        let members = members.sorted { $0.cluster < $1.cluster }
        // The oldest export decides; unknown creation times sort last, ties by cluster name.
        let oldest = members.min { lhs, rhs in
            switch (lhs.exportedAt, rhs.exportedAt) {
            case let (l?, r?) where l != r: return l < r
            case (_?, nil): return true
            case (nil, _?): return false
            default: return lhs.cluster < rhs.cluster
            }
        }!

        var conflicts: [(reason: String, message: String)] = []
        var problems: [(reason: String, message: String)] = []

        // Spec from the deciding member's annotations, overridden by the user's ServiceDNSRecord.
        let (annotated, specProblems) = spec(from: oldest.service)
        var spec = annotated
        var policyProblems: [String] = []
        if let userSpec { (spec, policyProblems) = overlay(userSpec, on: annotated) }
        problems += specProblems.map { ("InvalidAnnotation", "\(oldest.cluster): \($0)") }
        problems += policyProblems.map { ("InvalidSpec", $0) }
        let differing = members.filter { $0.cluster != oldest.cluster && Self.spec(from: $0.service).0 != annotated }
        if !differing.isEmpty {
            conflicts.append(
                (
                    "SpecConflict",
                    "mcdns.io annotations differ in \(names(differing)); "
                        + "\(oldest.cluster) (oldest export) decides"
                )
            )
        }

        // Service kind.
        let winningKind = kind(of: oldest.service)
        let otherKinds = members.filter { kind(of: $0.service) != winningKind }
        if !otherKinds.isEmpty {
            let reason =
                (winningKind == .externalName || otherKinds.contains { kind(of: $0.service) == .externalName })
                ? "TypeConflict" : "HeadlessConflict"
            let detail = otherKinds.map { "\($0.cluster) is \(kind(of: $0.service).rawValue)" }.joined(separator: ", ")
            conflicts.append((reason, "\(oldest.cluster) (oldest export) is \(winningKind.rawValue); \(detail)"))
        }

        // Ports: the union by (name, protocol, port).
        let portSets = members.map { member in
            Set(member.service.ports.map { ServicePort(name: $0.name, protocol: $0.protocol, port: $0.port) })
        }
        let union = portSets.reduce(into: Set<ServicePort>()) { $0.formUnion($1) }
        if portSets.contains(where: { $0 != portSets[0] }) {
            let detail = zip(members, portSets).map { member, ports in
                "\(member.cluster) [\(ports.sorted().map(describe).joined(separator: ", "))]"
            }.joined(separator: "; ")
            conflicts.append(("PortConflict", "ports differ across clusters, serving their union: \(detail)"))
        }

        var dns: [ClusterDNS] = []
        for member in members {
            dns.append(clusterDNS(member))
            if !member.topology.isKnown {
                problems.append(
                    (
                        "UnknownTopology",
                        "\(member.cluster) has no "
                            + (member.topology.regionKnown ? "zone" : "region")
                            + "; set it in the configuration or label its Nodes topology.kubernetes.io/region and /zone"
                    )
                )
            }
            switch member.link {
            case .synced: break
            case .stale:
                problems.append(("MemberStale", "\(member.cluster) is disconnected; serving its last-known targets"))
            case .offline: problems.append(("MemberOffline", "\(member.cluster) is offline; its targets are withdrawn"))
            }
        }

        var record = ServiceDNSRecord(key: key, spec: spec)
        record.status.dns = dns
        record.status.headless = winningKind == .headless
        record.status.externalTarget = winningKind == .externalName ? oldest.service.externalName : nil
        record.status.ports = union.sorted()

        var conditions = [readyCondition(kind: winningKind, spec: spec, members: members, dns: dns)]
        if let conflict = combine(ConditionType.conflict, conflicts) { conditions.append(conflict) }
        if let degraded = combine(ConditionType.degraded, problems) { conditions.append(degraded) }
        if winningKind != .externalName, let drained = drainedCondition(spec: spec, members: members, dns: dns) {
            conditions.append(drained)
        }
        record.status.conditions = conditions
        return record
    }

    /// The annotations' spec with the fields a user's ServiceDNSRecord sets put over it.
    static func overlay(_ user: KubeServiceDNSRecord.Spec, on annotated: ServiceDNSRecord.Spec)
        -> (ServiceDNSRecord.Spec, [String])
    {
        var spec = annotated
        var problems: [String] = []
        if let text = user.trafficPolicy, !text.isEmpty {
            do throws(TrafficPolicy.ParseError) {
                spec.trafficPolicy = try TrafficPolicy(parsing: text)
            } catch {
                problems.append("spec.trafficPolicy \"\(text)\": \(error); using the Service's policy or nearest")
            }
        }
        if let domainRef = user.domainRef, !domainRef.isEmpty { spec.domainRef = domainRef }
        if let ttl = user.recordTTL, let value = UInt32(exactly: ttl) { spec.recordTTL = value }
        if let prefix = user.dnsPrefix, !prefix.isEmpty { spec.dnsPrefix = prefix }
        if let name = user.externalName, !name.isEmpty { spec.externalName = name }
        if user.allowServiceWithoutEndpoints == true { spec.allowServiceWithoutEndpoints = true }
        return (spec, problems)
    }

    /// The spec a Service's annotations ask for, and what was wrong with them.
    static func spec(from service: KubeService) -> (ServiceDNSRecord.Spec, [String]) {
        var spec = ServiceDNSRecord.Spec()
        var problems: [String] = []
        let annotations = service.metadata.annotations
        if let text = annotations[Annotation.ttl] {
            // RFC 2181 §8: a TTL is an unsigned 31-bit number.
            if let ttl = UInt32(text.trimmingCharacters(in: .whitespaces)), ttl <= 2_147_483_647 {
                spec.recordTTL = ttl
            } else {
                problems.append(
                    "\(Annotation.ttl) \"\(text)\" is not a TTL in seconds (0-2147483647); using the default"
                )
            }
        }
        if let prefix = annotations[Annotation.dnsPrefix], !prefix.isEmpty { spec.dnsPrefix = prefix }
        if let name = annotations[Annotation.externalName], !name.isEmpty { spec.externalName = name }
        if let text = annotations[Annotation.allowServiceWithoutEndpoints] {
            switch text.lowercased() {
            case "true": spec.allowServiceWithoutEndpoints = true
            case "false": spec.allowServiceWithoutEndpoints = false
            default: problems.append("\(Annotation.allowServiceWithoutEndpoints) \"\(text)\" is not true or false")
            }
        }
        if let text = annotations[Annotation.trafficPolicy], !text.isEmpty {
            do throws(TrafficPolicy.ParseError) {
                spec.trafficPolicy = try TrafficPolicy(parsing: text)
            } catch {
                problems.append("\(Annotation.trafficPolicy) \"\(text)\": \(error); using nearest")
            }
        }
        return (spec, problems)
    }

    /// Endpoints of one member's slices, one entry per address, sorted by the address's text (the order the
    /// status document and the answers have always had: `10.0.0.10` before `10.0.0.9`).
    ///
    /// An address in several slices (during a slice rollover, say) is one endpoint: ready or serving if any copy
    /// is, terminating only if every copy is, and the first hostname and zone found.
    static func endpoints(of member: MergeInput) -> [Endpoint] {
        var byAddress: [IPAddress: Endpoint] = [:]
        let publishNotReady = member.service.publishNotReadyAddresses
        for slice in member.slices.sorted(by: { $0.metadata.name < $1.metadata.name }) where slice.addressType != .fqdn
        {
            for endpoint in slice.endpoints {
                // Kubernetes: an absent `ready` means ready; an absent `serving` means the same as `ready`.
                let ready = endpoint.ready ?? true
                let merged = Endpoint(
                    address: IPAddress(ipv4: 0, 0, 0, 0),
                    hostname: endpoint.hostname,
                    zone: endpoint.zone ?? endpoint.nodeName.flatMap { member.nodes[$0]?.zone },
                    ready: ready || publishNotReady,
                    serving: endpoint.serving ?? ready,
                    terminating: endpoint.terminating ?? false
                )
                for address in endpoint.addresses {
                    if var existing = byAddress[address] {
                        existing.ready = existing.ready || merged.ready
                        existing.serving = existing.serving || merged.serving
                        existing.terminating = existing.terminating && merged.terminating
                        existing.hostname = existing.hostname ?? merged.hostname
                        existing.zone = existing.zone ?? merged.zone
                        byAddress[address] = existing
                    } else {
                        var copy = merged
                        copy.address = address
                        byAddress[address] = copy
                    }
                }
            }
        }
        return byAddress.map { ($0.key.description, $0.value) }.sorted { $0.0 < $1.0 }.map(\.1)
    }

    private static func clusterDNS(_ member: MergeInput) -> ClusterDNS {
        let endpoints = endpoints(of: member)
        return ClusterDNS(
            cluster: member.cluster,
            region: member.topology.region,
            zones: member.topology.zones,
            loadBalancer: member.service.loadBalancerIngress.map {
                LoadBalancerIngress(ip: $0.ip, hostname: $0.hostname)
            },
            clusterIPs: member.service.clusterIPs,
            endpoints: endpoints,
            readyEndpoints: endpoints.reduce(0) { $0 + ($1.ready ? 1 : 0) },
            stale: member.link != .synced,
            lastObserved: member.lastObserved
        )
    }

    /// Ready when a member that still serves (synced or stale) has ready endpoints; ExternalName services are
    /// always ready, and `allowServiceWithoutEndpoints` accepts a serving member with any target.
    private static func readyCondition(
        kind: Kind,
        spec: ServiceDNSRecord.Spec,
        members: [MergeInput],
        dns: [ClusterDNS]
    ) -> Condition {
        if kind == .externalName {
            return Condition(
                type: ConditionType.ready,
                status: .true,
                reason: "ExternalName",
                message: "answers with a CNAME to the external name"
            )
        }
        // The health rule is TargetServing's; this only words the outcome. Draining never makes a record unready:
        // a drained cluster still answers when every healthy cluster is drained.
        let verdicts = zip(members, dns).map { member, dns in
            (dns, TargetServing.verdict(link: member.link, readyEndpoints: dns.readyEndpoints,
                                        allowsWithoutEndpoints: spec.allowServiceWithoutEndpoints))
        }
        let withReady = verdicts.filter { $0.1.serves && $0.0.readyEndpoints > 0 }.map(\.0)
        if !withReady.isEmpty {
            return Condition(
                type: ConditionType.ready,
                status: .true,
                reason: "EndpointsReady",
                message: "ready endpoints in \(withReady.map(\.cluster.rawValue).joined(separator: ", "))"
            )
        }
        // Serving without a ready endpoint happens only when the spec allows it.
        let withTargets = verdicts.filter { $0.1.serves && Self.hasTargets($0.0) }.map(\.0)
        if !withTargets.isEmpty {
            return Condition(
                type: ConditionType.ready,
                status: .true,
                reason: "AllowedWithoutEndpoints",
                message: "published without ready endpoints in "
                    + withTargets.map(\.cluster.rawValue).joined(separator: ", ")
            )
        }
        return Condition(
            type: ConditionType.ready,
            status: .false,
            reason: "NoReadyEndpoints",
            message: "no connected cluster has a ready endpoint"
        )
    }

    /// Whether the cluster has anything to answer with: ready endpoints, a load balancer or ClusterIPs.
    private static func hasTargets(_ dns: ClusterDNS) -> Bool {
        dns.readyEndpoints > 0 || !dns.loadBalancer.isEmpty || !dns.clusterIPs.isEmpty
    }

    /// `Drained` when a member that exports the service is drained: which ones, and whether every healthy
    /// cluster is drained so that they answer anyway (`TargetServing.selecting`).
    private static func drainedCondition(
        spec: ServiceDNSRecord.Spec,
        members: [MergeInput],
        dns: [ClusterDNS]
    ) -> Condition? {
        let drained = members.filter { $0.drain != nil }
        guard !drained.isEmpty else { return nil }
        let serving = zip(members, dns).filter { member, dns in
            TargetServing.verdict(link: member.link, readyEndpoints: dns.readyEndpoints,
                                  allowsWithoutEndpoints: spec.allowServiceWithoutEndpoints).serves
                && hasTargets(dns)
        }.map(\.0)
        let selection = TargetServing.selecting(serving) { $0.drain != nil }
        let described = drained.map { "\($0.cluster) \($0.drain!.description)" }.joined(separator: ", ")
        if selection.allDrained {
            return Condition(
                type: ConditionType.drained,
                status: .true,
                reason: DrainReason.allHealthyDrained,
                message: "every healthy cluster is drained (\(described)): answering as if none were"
            )
        }
        return Condition(
            type: ConditionType.drained,
            status: .true,
            reason: DrainReason.clusterDrained,
            message: "\(described): left out of the answers"
        )
    }

    private static func kind(of service: KubeService) -> Kind {
        if service.type == .externalName { return .externalName }
        return service.headless ? .headless : .clusterIP
    }

    private static func combine(_ type: String, _ items: [(reason: String, message: String)]) -> Condition? {
        guard let first = items.first else { return nil }
        if items.count == 1 {
            return Condition(type: type, status: .true, reason: first.reason, message: first.message)
        }
        let reasons = items.map(\.reason).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return Condition(
            type: type,
            status: .true,
            reason: reasons.count == 1 ? first.reason : "Multiple",
            message: items.map { "\($0.reason): \($0.message)" }.joined(separator: "; ")
        )
    }

    private static func names(_ members: [MergeInput]) -> String {
        members.map(\.cluster.rawValue).joined(separator: ", ")
    }

    private static func describe(_ port: ServicePort) -> String {
        (port.name.map { "\($0)/" } ?? "") + "\(port.protocol)/\(port.port)"
    }
}
