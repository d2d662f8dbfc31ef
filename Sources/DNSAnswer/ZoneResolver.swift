public import DNSWire

/// Answers (name, type) against one zone in record form, following RFC 1034 §4.3.2 with RFC 4592 wildcards
/// and in-zone CNAME chasing. It runs when a table is compiled, and for `explain`; never per query.
public struct ZoneResolver: Sendable {
    public static let maxChainLength = 16

    public let zone: ZoneContent
    public let serial: UInt32

    public init(zone: ZoneContent, serial: UInt32) {
        self.zone = zone
        self.serial = serial
    }

    enum Step {
        case cut(DomainName)
        case node(owner: DomainName, rrsets: [RRType: [ResourceRecord]])
        case missing
    }

    func step(_ name: DomainName, qtype: RRType, override: (DomainName, [RRType: [ResourceRecord]])? = nil) -> Step {
        if let override, override.0 == name { return .node(owner: name, rrsets: override.1) }
        if let cut = zone.cut(atOrAbove: name), !(cut == name && qtype == .ds) {
            return .cut(cut)
        }
        if let rrsets = zone.rrsets(at: name) { return .node(owner: name, rrsets: rrsets) }
        // The closest encloser, then its wildcard (RFC 4592 §3.3.1).
        var encloser = name.parent
        while let current = encloser, !zone.contains(current) { encloser = current.parent }
        if let encloser, let wildcard = try? encloser.prepending("*"), let rrsets = zone.rrsets(at: wildcard) {
            return .node(owner: name, rrsets: rrsets)
        }
        return .missing
    }

    /// `override` replaces the RRsets of one name (a requester-specific variant).
    public func resolve(_ qname: DomainName, _ qtype: RRType,
                        override: [RRType: [ResourceRecord]]? = nil) -> ResolvedAnswer {
        var result = ResolvedAnswer(resolution: .answer, rcode: .noError, authoritative: true)
        var current = qname
        var visited: Set<DomainName> = [qname]
        for _ in 0..<Self.maxChainLength {
            switch step(current, qtype: qtype, override: override.map { (qname, $0) }) {
            case .cut(let cut):
                addReferral(cut, to: &result)
                if result.answer.isEmpty {
                    result.resolution = .referral
                    result.authoritative = false
                }
                return result
            case .missing:
                result.rcode = .nxDomain
                result.resolution = .nxDomain
                addNegative(to: &result)
                return result
            case .node(let owner, let rrsets):
                if qtype == .any {
                    if let set = Self.minimalAny(rrsets) {
                        result.answer += set.map { $0.renamed(owner) }
                        result.resolution = .answer
                    } else {
                        result.resolution = .noData
                        addNegative(to: &result, at: owner)
                    }
                    return result
                }
                if let set = rrsets[qtype], !set.isEmpty {
                    result.answer += set.map { $0.renamed(owner) }
                    result.resolution = .answer
                    addAdditional(for: set, to: &result)
                    return result
                }
                if qtype != .cname, let cname = rrsets[.cname]?.first, let target = cname.targetName {
                    result.answer.append(cname.renamed(owner))
                    guard target.isSubdomain(of: zone.origin), visited.insert(target).inserted else {
                        result.resolution = .answer
                        return result
                    }
                    current = target
                    continue
                }
                result.resolution = .noData
                addNegative(to: &result, at: owner)
                return result
            }
        }
        result.resolution = .answer
        return result
    }

    /// RFC 8482 §4.2: answer ANY with one RRset. We take the first in a fixed preference so answers are stable.
    static func minimalAny(_ rrsets: [RRType: [ResourceRecord]]) -> [ResourceRecord]? {
        let preference: [RRType] = [.cname, .a, .aaaa, .mx, .txt, .srv, .ns, .soa, .ptr]
        for type in preference { if let set = rrsets[type], !set.isEmpty { return set } }
        return rrsets.sorted { $0.key < $1.key }.first { !$0.value.isEmpty }?.value
    }

    func addNegative(to result: inout ResolvedAnswer, at name: DomainName? = nil) {
        var soa = zone.soa(serial: serial)
        // RFC 2308 §3: the negative TTL is the smaller of the SOA's TTL and its MINIMUM field; a known service
        // without targets has its own short one.
        soa.ttl = name.flatMap { zone.negativeTTL(at: $0) } ?? min(soa.ttl, zone.soaMinimum)
        result.authority.append(soa)
    }

    func addReferral(_ cut: DomainName, to result: inout ResolvedAnswer) {
        let ns = zone.rrsets(at: cut)?[.ns] ?? []
        result.authority += ns
        for record in ns {
            guard let target = record.targetName, target.isSubdomain(of: zone.origin) else { continue }
            let glue = addresses(of: target)
            if target.isSubdomain(of: cut) {
                appendUnique(glue, to: &result.additionalRequired)
            } else {
                appendUnique(glue, to: &result.additionalOptional)
            }
        }
    }

    func addAdditional(for set: [ResourceRecord], to result: inout ResolvedAnswer) {
        guard set.first.map({ [.ns, .mx, .srv].contains($0.type) }) == true else { return }
        for record in set {
            guard let target = record.targetName, target.isSubdomain(of: zone.origin),
                zone.cut(atOrAbove: target) == nil || set.first?.type == .ns
            else { continue }
            appendUnique(addresses(of: target), to: &result.additionalOptional)
        }
    }

    func addresses(of name: DomainName) -> [ResourceRecord] {
        guard let rrsets = zone.rrsets(at: name) else { return [] }
        return (rrsets[.a] ?? []) + (rrsets[.aaaa] ?? [])
    }

    func appendUnique(_ records: [ResourceRecord], to list: inout [ResourceRecord]) {
        for record in records where !list.contains(record) { list.append(record) }
    }
}

extension ResourceRecord {
    func renamed(_ owner: DomainName) -> ResourceRecord {
        var copy = self
        copy.owner = owner
        return copy
    }
}
