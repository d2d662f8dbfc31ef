/// The resources the simulator serves: what mcdns watches in a member cluster, and what it writes in the host
/// cluster (Leases for leader election, ServiceDNSRecords with their status, core/v1 Events about them).
public enum SimResource: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case services
    case endpointSlices
    case serviceExports
    case nodes
    case leases
    case serviceDNSRecords
    case events

    public var description: String { plural }

    /// The API group; "" for the core group.
    public var group: String {
        switch self {
        case .services, .nodes, .events: ""
        case .endpointSlices: "discovery.k8s.io"
        case .serviceExports: "multicluster.x-k8s.io"
        case .leases: "coordination.k8s.io"
        case .serviceDNSRecords: "multicluster.mcdns.io"
        }
    }

    public var version: String {
        switch self {
        case .serviceExports, .serviceDNSRecords: "v1alpha1"
        default: "v1"
        }
    }

    /// `apiVersion` as objects carry it: "v1" or "group/version".
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }

    /// The URL segment and the name RBAC and Status bodies use.
    public var plural: String {
        switch self {
        case .services: "services"
        case .endpointSlices: "endpointslices"
        case .serviceExports: "serviceexports"
        case .nodes: "nodes"
        case .leases: "leases"
        case .serviceDNSRecords: "servicednsrecords"
        case .events: "events"
        }
    }

    public var singular: String { String(plural.dropLast()) }

    public var kind: String {
        switch self {
        case .services: "Service"
        case .endpointSlices: "EndpointSlice"
        case .serviceExports: "ServiceExport"
        case .nodes: "Node"
        case .leases: "Lease"
        case .serviceDNSRecords: "ServiceDNSRecord"
        case .events: "Event"
        }
    }

    public var listKind: String { kind + "List" }

    public var namespaced: Bool { self != .nodes }

    /// The URL prefix of the group version: "/api/v1" or "/apis/group/version".
    var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// ServiceExport and ServiceDNSRecord are CustomResourceDefinitions: the apiserver serves them as unstructured
    /// JSON, so list items keep their kind and apiVersion, which built-in types drop.
    var isCustomResource: Bool { self == .serviceExports || self == .serviceDNSRecords }

    /// Whether `metadata.generation` is kept (Services, Nodes and Leases have none in the recordings/apiserver).
    var tracksGeneration: Bool { self == .endpointSlices || isCustomResource }

    /// A Service or a custom resource DELETE answers the deleted object; the others a Status (transcripts 24, 28).
    var deleteReturnsObject: Bool { self == .services || isCustomResource }

    /// Resources with a `/status` subresource: PUT/PATCH there change only `status`.
    var hasStatusSubresource: Bool { self == .services || self == .nodes || self == .serviceDNSRecords }

    /// Whether the main resource ignores `status` on create and update, as the apiserver does for every type with
    /// a status subresource. Only the CRD's resource does it here: tests give Services their load-balancer status
    /// with a plain update (a documented simplification).
    var statusOnlyThroughSubresource: Bool { self == .serviceDNSRecords }

    /// A custom resource refuses an update without `metadata.resourceVersion` (the CRD strategy disallows
    /// unconditional updates); built-in types accept it.
    var requiresResourceVersionOnUpdate: Bool { isCustomResource }

    var shortNames: [String] {
        switch self {
        case .services: ["svc"]
        case .nodes: ["no"]
        case .serviceExports: ["svcex"]
        case .serviceDNSRecords: ["sdr"]
        case .events: ["ev"]
        default: []
        }
    }

    var categories: [String] {
        switch self {
        case .services: ["all"]
        case .serviceDNSRecords: ["mcdns"]
        default: []
        }
    }

    var storageVersionHash: String? {
        switch self {
        case .services: "0/CO1lhkEBI="
        case .endpointSlices: "qgS0xkrxYAI="
        case .nodes: "XwShjMxG9Fs="
        case .leases: "gqkMMb/YqFM="
        case .events: "r2yiGXH7wu8="
        case .serviceExports, .serviceDNSRecords: nil
        }
    }

    static let verbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// The empty object a BOOKMARK carries: Go's zero value of the type, as the apiserver serialises it
    /// (transcripts 20 and 25), with only `metadata.resourceVersion` set.
    func bookmarkObject(resourceVersion: String, annotations: [(String, SimJSON)] = []) -> SimJSON {
        var metadata: [(String, SimJSON)] = [("resourceVersion", .string(resourceVersion))]
        if !annotations.isEmpty { metadata.append(("annotations", .object(annotations))) }
        var members: [(String, SimJSON)] = [
            ("kind", .string(kind)), ("apiVersion", .string(apiVersion)), ("metadata", .object(metadata)),
        ]
        switch self {
        case .services:
            members += [("spec", .object([])), ("status", .object([("loadBalancer", .object([]))]))]
        case .endpointSlices:
            members += [("addressType", .string("")), ("endpoints", .null), ("ports", .null)]
        case .nodes:
            members += [
                ("spec", .object([])),
                (
                    "status",
                    .object([
                        ("daemonEndpoints", .object([("kubeletEndpoint", .object([("Port", .number(0))]))])),
                        ("nodeInfo", .object(Self.emptyNodeInfo)),
                    ])
                ),
            ]
        case .leases:
            members += [("spec", .object([]))]
        case .events:
            members += [
                ("involvedObject", .object([])), ("source", .object([])), ("firstTimestamp", .null),
                ("lastTimestamp", .null), ("eventTime", .null), ("reportingComponent", .string("")),
                ("reportingInstance", .string("")),
            ]
        case .serviceExports, .serviceDNSRecords:
            break
        }
        return .object(members)
    }

    private static let emptyNodeInfo: [(String, SimJSON)] = [
        "machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion", "kubeletVersion",
        "kubeProxyVersion", "operatingSystem", "architecture",
    ].map { ($0, SimJSON.string("")) }

    /// The resource an object of `apiVersion`/`kind` belongs to.
    /// The field labels a `fieldSelector` may name besides `metadata.name` and `metadata.namespace`, with the
    /// path each reads (the apiserver's `event.GetAttrs`; `source` is `source.component`).
    var selectableFields: [String: [String]] {
        switch self {
        case .events:
            [
                "involvedObject.kind": ["involvedObject", "kind"],
                "involvedObject.namespace": ["involvedObject", "namespace"],
                "involvedObject.name": ["involvedObject", "name"],
                "involvedObject.uid": ["involvedObject", "uid"],
                "involvedObject.apiVersion": ["involvedObject", "apiVersion"],
                "involvedObject.resourceVersion": ["involvedObject", "resourceVersion"],
                "involvedObject.fieldPath": ["involvedObject", "fieldPath"],
                "reason": ["reason"], "reportingComponent": ["reportingComponent"], "source": ["source", "component"],
                "type": ["type"],
            ]
        default: [:]
        }
    }

    static func forObject(apiVersion: String, kind: String) -> SimResource? {
        allCases.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }
}
