/// The discovery documents: /version, the legacy /api, /apis, /api/v1 and /apis/GROUP/VERSION ones (transcripts
/// 01–05), and the aggregated discovery v2 lists kubectl ≥ 1.30 asks for with its Accept header (06, 07). Only
/// the simulated resources are listed, without those the simulator holds uninstalled (`hidden`).
enum SimDiscovery {
    static let aggregatedContentType = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

    /// Whether the Accept header asks for aggregated discovery v2 (kubectl sends it first, with plain JSON as
    /// the fallback).
    static func wantsAggregated(_ accept: String?) -> Bool {
        guard let accept else { return false }
        return accept.split(separator: ",").contains { part in
            let parameters = part.split(separator: ";").map { $0.trimmingSpaces }
            return parameters.contains("as=APIGroupDiscoveryList") && parameters.contains("v=v2")
                && parameters.contains("g=apidiscovery.k8s.io")
        }
    }

    static func version(_ gitVersion: String) -> SimJSON {
        let parts = gitVersion.dropFirst().split(separator: ".")
        let major = parts.first.map(String.init) ?? "1"
        let minor = parts.count > 1 ? String(parts[1]) : "0"
        return .object([
            ("major", .string(major)), ("minor", .string(minor)),
            ("emulationMajor", .string(major)), ("emulationMinor", .string(minor)),
            ("minCompatibilityMajor", .string(major)),
            ("minCompatibilityMinor", .string(String(max(0, (Int(minor) ?? 1) - 1)))),
            ("gitVersion", .string(gitVersion)), ("gitCommit", .string("0000000000000000000000000000000000000000")),
            ("gitTreeState", .string("clean")), ("buildDate", .string("2026-11-27T00:00:00Z")),
            ("goVersion", .string("go1.26.4")), ("compiler", .string("gc")), ("platform", .string("linux/amd64")),
        ])
    }

    static func apiVersions(serverAddress: String) -> SimJSON {
        .object([
            ("kind", .string("APIVersions")), ("versions", .array([.string("v1")])),
            (
                "serverAddressByClientCIDRs",
                .array([.object([("clientCIDR", .string("0.0.0.0/0")), ("serverAddress", .string(serverAddress))])])
            ),
        ])
    }

    /// The named groups, in the order /apis lists them.
    static func groups(hidden: Set<SimResource> = []) -> [(group: String, version: String)] {
        var seen: [(String, String)] = []
        for resource in SimResource.allCases where !resource.group.isEmpty && !hidden.contains(resource) {
            if !seen.contains(where: { $0.0 == resource.group }) { seen.append((resource.group, resource.version)) }
        }
        return seen
    }

    static func apiGroupList(hidden: Set<SimResource> = []) -> SimJSON {
        let listed = groups(hidden: hidden)
        return .object([
            ("kind", .string("APIGroupList")), ("apiVersion", .string("v1")),
            (
                "groups",
                .array(listed.map { group, version in
                    let groupVersion: SimJSON = .object([
                        ("groupVersion", .string("\(group)/\(version)")), ("version", .string(version)),
                    ])
                    return .object([
                        ("name", .string(group)), ("versions", .array([groupVersion])),
                        ("preferredVersion", groupVersion),
                    ])
                })
            ),
        ])
    }

    /// The APIResourceList of "v1" or "group/version"; nil when no simulated resource lives there.
    static func resourceList(groupVersion: String, hidden: Set<SimResource> = []) -> SimJSON? {
        let resources = SimResource.allCases.filter { $0.apiVersion == groupVersion && !hidden.contains($0) }
        guard !resources.isEmpty else { return nil }
        var entries: [SimJSON] = []
        for resource in resources.sorted(by: { $0.plural < $1.plural }) {
            var entry: [(String, SimJSON)] = [
                ("name", .string(resource.plural)), ("singularName", .string(resource.singular)),
                ("namespaced", .bool(resource.namespaced)), ("kind", .string(resource.kind)),
                ("verbs", .array(SimResource.verbs.map { .string($0) })),
            ]
            if !resource.shortNames.isEmpty { entry.append(("shortNames", .array(resource.shortNames.map { .string($0) }))) }
            if !resource.categories.isEmpty { entry.append(("categories", .array(resource.categories.map { .string($0) }))) }
            if let hash = resource.storageVersionHash { entry.append(("storageVersionHash", .string(hash))) }
            entries.append(.object(entry))
            if resource.hasStatusSubresource {
                entries.append(.object([
                    ("name", .string("\(resource.plural)/status")), ("singularName", .string("")),
                    ("namespaced", .bool(resource.namespaced)), ("kind", .string(resource.kind)),
                    ("verbs", .array(["get", "patch", "update"].map { .string($0) })),
                ]))
            }
        }
        var members: [(String, SimJSON)] = [("kind", .string("APIResourceList"))]
        // The core list has no apiVersion; the group ones do (transcripts 04, 05).
        if groupVersion != "v1" { members.append(("apiVersion", .string("v1"))) }
        members += [("groupVersion", .string(groupVersion)), ("resources", .array(entries))]
        return .object(members)
    }

    /// Aggregated discovery v2: for /api (core) or /apis (the named groups).
    static func aggregated(core: Bool, hidden: Set<SimResource> = []) -> SimJSON {
        let groupNames: [(String, String)] = core ? [("", "v1")] : groups(hidden: hidden)
        let items: [SimJSON] = groupNames.map { group, version in
            let resources = SimResource.allCases.filter { $0.group == group && !hidden.contains($0) }.sorted { $0.plural < $1.plural }
            let entries: [SimJSON] = resources.map { resource in
                var entry: [(String, SimJSON)] = [
                    ("resource", .string(resource.plural)),
                    (
                        "responseKind",
                        .object([("group", .string("")), ("version", .string("")), ("kind", .string(resource.kind))])
                    ),
                    ("scope", .string(resource.namespaced ? "Namespaced" : "Cluster")),
                    ("singularResource", .string(resource.singular)),
                    ("verbs", .array(SimResource.verbs.map { .string($0) })),
                ]
                if !resource.shortNames.isEmpty {
                    entry.append(("shortNames", .array(resource.shortNames.map { .string($0) })))
                }
                if !resource.categories.isEmpty {
                    entry.append(("categories", .array(resource.categories.map { .string($0) })))
                }
                if resource.hasStatusSubresource {
                    entry.append((
                        "subresources",
                        .array([
                            .object([
                                ("subresource", .string("status")),
                                (
                                    "responseKind",
                                    .object([
                                        ("group", .string("")), ("version", .string("")),
                                        ("kind", .string(resource.kind)),
                                    ])
                                ),
                                ("verbs", .array(["get", "patch", "update"].map { .string($0) })),
                            ])
                        ])
                    ))
                }
                return .object(entry)
            }
            let metadata: SimJSON = core ? .object([]) : .object([("name", .string(group))])
            return .object([
                ("metadata", metadata),
                (
                    "versions",
                    .array([
                        .object([
                            ("version", .string(version)), ("resources", .array(entries)),
                            ("freshness", .string("Current")),
                        ])
                    ])
                ),
            ])
        }
        return .object([
            ("kind", .string("APIGroupDiscoveryList")), ("apiVersion", .string("apidiscovery.k8s.io/v2")),
            ("metadata", .object([])), ("items", .array(items)),
        ])
    }
}
