/// DESIGN §2's module table, as data: which of our modules each target may import directly.
/// A new target must be added here (and to DESIGN.md) before the dependency test accepts it.
enum ModuleTable {
    static let allowed: [String: Set<String>] = [
        "CLDNS": [],
        // The recvmmsg/sendmmsg shim; a C target under DNSServer, like CLDNS under DNSWire.
        "CMCDNSSys": [],
        "DNSWire": ["CLDNS"],
        "MCDNSModel": [],
        "DNSAnswer": ["DNSWire", "MCDNSModel"],
        "RecordStore": ["DNSAnswer", "MCDNSModel"],
        "DNSServer": ["RecordStore", "DNSWire", "CMCDNSSys"],
        // Kubernetes objects decode their addresses into MCDNSModel's IPAddress: parsed once, at the edge.
        "KubeClient": ["MCDNSModel"],
        "ClusterTunnel": [],
        "ClusterController": ["KubeClient", "MCDNSModel"],
        "MCDNSDaemon": [
            "CLDNS", "CMCDNSSys", "DNSWire", "MCDNSModel", "DNSAnswer", "RecordStore", "DNSServer", "KubeClient",
            "ClusterTunnel", "ClusterController",
        ],
        "MCDNSCommands": ["MCDNSDaemon", "DNSAnswer", "DNSWire"],
        "mcdns": ["MCDNSCommands"],
        "DNSTestSupport": ["DNSWire"],
        // The reference model of the answers (DESIGN §9): never DNSAnswer, so the two cannot share a bug.
        "DNSReferenceModel": ["DNSWire", "MCDNSModel"],
        "KubeAPISimulator": [],
        // The simulator on its own, for demos.
        "mcdns-apisim": ["KubeAPISimulator"],
    ]

    static let dnsHalf: Set<String> = ["CLDNS", "CMCDNSSys", "DNSWire", "DNSAnswer", "RecordStore", "DNSServer"]
    static let kubernetesHalf: Set<String> = ["KubeClient", "ClusterTunnel", "ClusterController"]
    static let testSupport: Set<String> = ["DNSTestSupport", "DNSReferenceModel", "KubeAPISimulator", "mcdns-apisim"]

    /// Everything `target` may reach by following the table's arrows: importing a module further down an arrow
    /// (DNSServer naming DNSAnswer's types, say) keeps the direction, so it is allowed.
    static func reachable(from target: String) -> Set<String> {
        var seen: Set<String> = []
        var pending = Array(allowed[target] ?? [])
        while let next = pending.popLast() {
            guard seen.insert(next).inserted else { continue }
            pending.append(contentsOf: allowed[next] ?? [])
        }
        return seen
    }
}
