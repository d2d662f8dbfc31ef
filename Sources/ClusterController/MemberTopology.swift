public import KubeClient
public import MCDNSModel

/// Where a member sits: from the configuration when given, else from its Nodes' topology labels.
public struct MemberTopology: Sendable, Equatable {
    public var region: String
    /// The member's zones, its own zone first; `[unknown]` when none is known.
    public var zones: [String]
    public var regionKnown: Bool
    public var zoneKnown: Bool

    public init(region: String, zones: [String], regionKnown: Bool = true, zoneKnown: Bool = true) {
        self.region = region
        self.zones = zones
        self.regionKnown = regionKnown
        self.zoneKnown = zoneKnown
    }

    public var isKnown: Bool { regionKnown && zoneKnown }
    public var locality: Locality { Locality(region: region, zone: zones.first ?? Locality.unknown) }

    /// The configured region and zones win; what is missing comes from the Nodes: the region most nodes carry,
    /// and the zones of that region's nodes, the one with most nodes first (ties by name, so it is stable).
    public static func resolve(
        region configuredRegion: String?,
        zones configuredZones: [String]?,
        nodes: some Collection<KubeNode>
    ) -> MemberTopology {
        var regionCounts: [String: Int] = [:]
        for node in nodes { if let region = node.region { regionCounts[region, default: 0] += 1 } }
        let region = configuredRegion ?? mostCommon(regionCounts)

        var zones = configuredZones ?? []
        if zones.isEmpty {
            var zoneCounts: [String: Int] = [:]
            for node in nodes where region == nil || node.region == nil || node.region == region {
                if let zone = node.zone { zoneCounts[zone, default: 0] += 1 }
            }
            zones = zoneCounts.sorted { ($0.value, $1.key) > ($1.value, $0.key) }.map(\.key)
        }
        return MemberTopology(
            region: region ?? Locality.unknown,
            zones: zones.isEmpty ? [Locality.unknown] : zones,
            regionKnown: region != nil,
            zoneKnown: !zones.isEmpty
        )
    }

    private static func mostCommon(_ counts: [String: Int]) -> String? {
        counts.max { ($0.value, $1.key) < ($1.value, $0.key) }?.key
    }
}
