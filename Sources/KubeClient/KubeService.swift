public import MCDNSModel

/// A stripped-down `v1/Service` with only what the merge needs.
public struct KubeService: Sendable, Hashable {
    public enum ServiceType: String, Sendable, Hashable, CaseIterable {
        case clusterIP = "ClusterIP"
        case nodePort = "NodePort"
        case loadBalancer = "LoadBalancer"
        case externalName = "ExternalName"
    }

    public struct Port: Sendable, Hashable {
        public var name: String?
        /// TCP, UDP or SCTP (TCP when absent).
        public var `protocol`: String
        public var port: Int

        public init(name: String? = nil, protocol: String = "TCP", port: Int) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
        }
    }

    public struct LoadBalancerIngress: Sendable, Hashable {
        public var ip: IPAddress?
        public var hostname: String?

        public init(ip: IPAddress? = nil, hostname: String? = nil) {
            self.ip = ip
            self.hostname = hostname
        }
    }

    public var metadata: KubeObjectMeta
    public var type: ServiceType
    /// `clusterIP: None`.
    public var headless: Bool
    /// The cluster IPs, primary first (`spec.clusterIPs`, or `spec.clusterIP` alone), parsed here once;
    /// empty for headless and ExternalName services.
    public var clusterIPs: [IPAddress]
    public var ipFamilies: [String]
    public var ports: [Port]
    public var externalName: String?
    public var publishNotReadyAddresses: Bool
    /// `status.loadBalancer.ingress`.
    public var loadBalancerIngress: [LoadBalancerIngress]

    public init(
        metadata: KubeObjectMeta,
        type: ServiceType = .clusterIP,
        headless: Bool = false,
        clusterIPs: [IPAddress] = [],
        ipFamilies: [String] = [],
        ports: [Port] = [],
        externalName: String? = nil,
        publishNotReadyAddresses: Bool = false,
        loadBalancerIngress: [LoadBalancerIngress] = []
    ) {
        self.metadata = metadata
        self.type = type
        self.headless = headless
        self.clusterIPs = clusterIPs
        self.ipFamilies = ipFamilies
        self.ports = ports
        self.externalName = externalName
        self.publishNotReadyAddresses = publishNotReadyAddresses
        self.loadBalancerIngress = loadBalancerIngress
    }

    static let protocols: Set<String> = ["TCP", "UDP", "SCTP"]

    static func decode(_ object: FieldReader) throws(KubeDecodingError) -> KubeService {
        let (metadata, _) = try KubeObjectMeta.decode(object, namespaced: true)
        do {
            return try decodeBody(object, metadata: metadata)
        } catch {
            var error = error
            error.object = "Service \(metadata.namespace)/\(metadata.name)"
            throw error
        }
    }

    private static func decodeBody(
        _ object: FieldReader,
        metadata: KubeObjectMeta
    ) throws(KubeDecodingError) -> KubeService {
        var service = KubeService(metadata: metadata)
        guard let spec = try object.object("spec") else {
            // A Service without spec is valid for kubectl only as a ClusterIP service with no ports.
            return service
        }
        if let typeName = try spec.string("type") {
            guard let type = ServiceType(rawValue: typeName) else {
                throw spec.invalid(
                    "type",
                    "\"\(typeName)\" is not one of "
                        + ServiceType.allCases.map(\.rawValue).joined(separator: ", "),
                    at: spec.value("type")
                )
            }
            service.type = type
        }

        let single = try spec.string("clusterIP")
        var listed = try spec.stringArray("clusterIPs")
        if listed.isEmpty, let single, !single.isEmpty { listed = [single] }
        if single == "None" || listed.first == "None" {
            service.headless = true
        } else {
            for (index, text) in listed.enumerated() {
                guard let address = IPAddress(text) else {
                    throw KubeDecodingError(
                        path: "\(spec.childPath("clusterIPs"))[\(index)]",
                        line: spec.value("clusterIPs")?.line ?? spec.value("clusterIP")?.line ?? spec.line,
                        problem: .invalidValue("\"\(text)\" is not an IP address")
                    )
                }
                service.clusterIPs.append(address)
            }
        }

        service.ipFamilies = try spec.stringArray("ipFamilies")
        for family in service.ipFamilies where family != "IPv4" && family != "IPv6" {
            throw spec.invalid("ipFamilies", "\"\(family)\" is not IPv4 or IPv6", at: spec.value("ipFamilies"))
        }

        for (item, path) in try spec.array("ports") {
            let port = try FieldReader(item, path: path)
            guard let number = try port.int("port") else { throw port.missing("port") }
            guard (1...65535).contains(number) else {
                throw port.invalid("port", "\(number) is not a port number (1-65535)", at: port.value("port"))
            }
            let proto = try port.string("protocol") ?? "TCP"
            guard protocols.contains(proto) else {
                throw port.invalid("protocol", "\"\(proto)\" is not TCP, UDP or SCTP", at: port.value("protocol"))
            }
            let name = try port.string("name")
            service.ports.append(Port(name: name?.isEmpty == true ? nil : name, protocol: proto, port: number))
        }

        service.externalName = try spec.string("externalName")
        if service.type == .externalName {
            guard let name = service.externalName, !name.isEmpty else {
                throw KubeDecodingError(
                    path: spec.childPath("externalName"),
                    line: spec.line,
                    problem: .invalidValue("required when type is ExternalName")
                )
            }
            service.clusterIPs = []
            service.headless = false
        }
        service.publishNotReadyAddresses = try spec.bool("publishNotReadyAddresses") ?? false

        if let status = try object.object("status"), let balancer = try status.object("loadBalancer") {
            for (item, path) in try balancer.array("ingress") {
                let entry = try FieldReader(item, path: path)
                var ingress = LoadBalancerIngress(hostname: try entry.string("hostname"))
                if let ip = try entry.string("ip") {
                    guard let address = IPAddress(ip) else {
                        throw entry.invalid("ip", "\"\(ip)\" is not an IP address", at: entry.value("ip"))
                    }
                    ingress.ip = address
                }
                if ingress.ip == nil && ingress.hostname == nil {
                    throw KubeDecodingError(
                        path: path,
                        line: item.line ?? entry.line,
                        problem: .invalidValue("an ingress entry needs an ip or a hostname")
                    )
                }
                service.loadBalancerIngress.append(ingress)
            }
        }
        return service
    }
}
