public import Foundation
public import KubeClient
public import MCDNSModel

/// One member's share of one service, as the merge reads it. The controller builds these from the caches for
/// members where the service exists and is exported; tests build them as literals.
public struct MergeInput: Sendable {
    public var cluster: ClusterID
    public var topology: MemberTopology
    public var link: LinkState
    /// Set while the member is drained (`TargetServing.selecting` leaves it out of the answers).
    public var drain: ClusterDrain?
    /// `ClusterDNS.lastObserved` (see `MemberLink.observedAt`).
    public var lastObserved: Double?
    public var service: KubeService
    /// The service's EndpointSlices in this member.
    public var slices: [KubeEndpointSlice]
    /// The member's ServiceExport of the service, if any: its creation time is the export time.
    public var serviceExport: KubeServiceExport?
    /// The member's Nodes by name, for endpoints that name a node but no zone.
    public var nodes: [String: KubeNode]

    public init(
        cluster: ClusterID,
        topology: MemberTopology,
        link: LinkState = .synced,
        drain: ClusterDrain? = nil,
        lastObserved: Double? = nil,
        service: KubeService,
        slices: [KubeEndpointSlice] = [],
        serviceExport: KubeServiceExport? = nil,
        nodes: [String: KubeNode] = [:]
    ) {
        self.cluster = cluster
        self.topology = topology
        self.link = link
        self.drain = drain
        self.lastObserved = lastObserved
        self.service = service
        self.slices = slices
        self.serviceExport = serviceExport
        self.nodes = nodes
    }

    /// When the service was exported from this member: the ServiceExport's creation (MCS resolves conflicts by
    /// the oldest ServiceExport), else the Service's. Unknown sorts last.
    public var exportedAt: Date? {
        serviceExport?.metadata.creationTimestamp ?? service.metadata.creationTimestamp
    }
}
