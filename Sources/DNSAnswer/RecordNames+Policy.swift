public import DNSWire
public import MCDNSModel

extension RRType {
    /// Not a served type: the weighted first-record picks of a name's A or AAAA RRset (`RecordNames.weightPicks`),
    /// carried beside its records through the zone contents to the renderer, which turns them into the answer's
    /// rotation points (`Rotation`). Private use (RFC 6895); the compile makes no answer of it, so a query for it
    /// gets NODATA like any absent type.
    public static let rotationWeights = RRType(65_534)
    /// Not a served type either: a name's `answers: N` (`TrafficPolicy.answers`), two bytes, big-endian, carried
    /// like `rotationWeights`; the renderer then serves only the first N records of its A or AAAA run
    /// (`Rotation.kept`).
    public static let answerLimit = RRType(65_533)
}

/// Traffic policies within one level of names (README, "Traffic policies"): which healthy clusters a name answers
/// with, and who comes first how often. Applied after the level's healthy targets are known.
extension RecordNames {
    /// Weighted answers pick their first cluster from this many slots: 120 divides evenly by 2, 3, 4, 5, 6 and 8,
    /// and a cluster's share is off by at most one slot (under 1%).
    static let weightSlots = 120

    /// The targets a name answers with under `policy`, from the healthy targets of its level.
    func applying(_ policy: TrafficPolicy, to targets: [Targets]) -> [Targets] {
        guard case .failover(let tiers) = policy.strategy else { return targets }
        return Self.failoverTier(tiers, targets).targets
    }

    /// The first tier with a healthy target, and its targets: tier `tiers.count` is the clusters no tier names.
    static func failoverTier(_ tiers: [String], _ targets: [Targets]) -> (index: Int, targets: [Targets]) {
        for (index, tier) in tiers.enumerated() {
            let chosen = targets.filter { $0.cluster.rawValue == tier || $0.region == tier }
            if !chosen.isEmpty { return (index, chosen) }
        }
        let rest = targets.filter { target in !tiers.contains { target.cluster.rawValue == $0 || target.region == $0 } }
        return (tiers.count, rest)
    }

    /// Each target's weight: its cluster's own, else its region's split evenly among the region's targets without
    /// one of their own, else 0.
    static func weights(_ weights: [TrafficPolicy.Weight], of targets: [Targets]) -> [Double] {
        let byKey = Dictionary(weights.map { ($0.key, Double($0.weight)) }, uniquingKeysWith: { first, _ in first })
        return targets.map { target in
            if let own = byKey[target.cluster.rawValue] { return own }
            guard let region = byKey[target.region] else { return 0 }
            let sharing = targets.filter { $0.region == target.region && byKey[$0.cluster.rawValue] == nil }.count
            return region / Double(max(sharing, 1))
        }
    }

    /// The records `rrsets` adds for a weighted policy: per address type, `weightSlots` indexes of the record
    /// that comes first, each cluster's first record in the share of its weight among the targets (smooth
    /// weighted round robin, so a cluster's turns spread over the slots). Every target weighing 0: none (the
    /// answer rotates evenly).
    func weightPicks(_ owner: DomainName, _ targets: [Targets], weights: [Double], ttl: UInt32) -> [ResourceRecord] {
        var picks: [ResourceRecord] = []
        for length in [4, 16] {
            // Each target's first record of this type, as `rrsets` numbers them (duplicates dropped).
            var seen = Set<[UInt8]>()
            var index = 0
            var groups: [(record: Int, weight: Double)] = []
            for (target, weight) in zip(targets, weights) {
                var first: Int? = nil
                for address in target.addresses where seen.insert(address).inserted {
                    if address.count == length {
                        if first == nil { first = index }
                        index += 1
                    }
                }
                if let first, weight > 0 { groups.append((first, weight)) }
            }
            guard !groups.isEmpty, index >= 2 else { continue }
            let total = groups.reduce(0) { $0 + $1.weight }
            var current = [Double](repeating: 0, count: groups.count)
            // The type the picks are for (A or AAAA), then the picks, 16 bits each.
            var rdata: [UInt8] = [0, UInt8(length == 4 ? RRType.a.rawValue : RRType.aaaa.rawValue)]
            for _ in 0..<Self.weightSlots {
                var best = 0
                for i in groups.indices {
                    current[i] += groups[i].weight
                    if current[i] > current[best] { best = i }
                }
                current[best] -= total
                rdata += [UInt8(groups[best].record >> 8), UInt8(groups[best].record & 0xFF)]
            }
            picks.append(ResourceRecord(owner: owner, type: .rotationWeights, ttl: ttl, rdata: rdata))
        }
        return picks
    }
}
