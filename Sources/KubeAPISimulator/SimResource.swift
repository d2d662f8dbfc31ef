/// The resources the simulator serves: what mcdns watches in a member cluster, and Leases for leader election.
public enum SimResource: String, CaseIterable, Sendable, Hashable, CustomStringConvertible {
    case services
    case endpointSlices
    case serviceExports
    case nodes
    case leases

    public var description: String { plural }

    /// The API group; "" for the core group.
    public var group: String {
        switch self {
        case .services, .nodes: ""
        case .endpointSlices: "discovery.k8s.io"
        case .serviceExports: "multicluster.x-k8s.io"
        case .leases: "coordination.k8s.io"
        }
    }

    public var version: String {
        switch self {
        case .serviceExports: "v1alpha1"
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
        }
    }

    public var listKind: String { kind + "List" }

    public var namespaced: Bool { self != .nodes }

    /// The URL prefix of the group version: "/api/v1" or "/apis/group/version".
    var groupVersionPath: String { group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)" }

    /// ServiceExport is a CustomResourceDefinition: the apiserver serves it as unstructured JSON, so list items keep
    /// their kind and apiVersion, which built-in types drop.
    var isCustomResource: Bool { self == .serviceExports }

    /// Whether `metadata.generation` is kept (Services, Nodes and Leases have none in the recordings/apiserver).
    var tracksGeneration: Bool { self == .endpointSlices || self == .serviceExports }

    /// A Service or a custom resource DELETE answers the deleted object; the others a Status (transcripts 24, 28).
    var deleteReturnsObject: Bool { self == .services || self == .serviceExports }

    var shortNames: [String] {
        switch self {
        case .services: ["svc"]
        case .nodes: ["no"]
        case .serviceExports: ["svcex"]
        default: []
        }
    }

    var categories: [String] {
        self == .services ? ["all"] : []
    }

    var storageVersionHash: String? {
        switch self {
        case .services: "0/CO1lhkEBI="
        case .endpointSlices: "qgS0xkrxYAI="
        case .nodes: "XwShjMxG9Fs="
        case .leases: "gqkMMb/YqFM="
        case .serviceExports: nil
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
        case .serviceExports:
            break
        }
        return .object(members)
    }

    private static let emptyNodeInfo: [(String, SimJSON)] = [
        "machineID", "systemUUID", "bootID", "kernelVersion", "osImage", "containerRuntimeVersion", "kubeletVersion",
        "kubeProxyVersion", "operatingSystem", "architecture",
    ].map { ($0, SimJSON.string("")) }

    /// The resource an object of `apiVersion`/`kind` belongs to.
    static func forObject(apiVersion: String, kind: String) -> SimResource? {
        allCases.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }
}
