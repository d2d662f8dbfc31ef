public import MCDNSModel

/// A stripped-down `discovery.k8s.io/v1` EndpointSlice.
public struct KubeEndpointSlice: Sendable, Hashable {
    public enum AddressType: String, Sendable, Hashable, CaseIterable {
        case ipv4 = "IPv4"
        case ipv6 = "IPv6"
        case fqdn = "FQDN"
    }

    public struct Endpoint: Sendable, Hashable {
        /// The addresses of an IPv4 or IPv6 slice, parsed here once (at least one; empty in an FQDN slice).
        public var addresses: [IPAddress]
        /// The names of an FQDN slice, as written (at least one; empty in an IPv4 or IPv6 slice). Not served.
        public var fqdns: [String]
        /// `conditions.ready`; nil when absent, which Kubernetes defines as ready.
        public var ready: Bool?
        public var serving: Bool?
        public var terminating: Bool?
        public var hostname: String?
        public var zone: String?
        public var nodeName: String?

        public init(
            addresses: [IPAddress],
            fqdns: [String] = [],
            ready: Bool? = nil,
            serving: Bool? = nil,
            terminating: Bool? = nil,
            hostname: String? = nil,
            zone: String? = nil,
            nodeName: String? = nil
        ) {
            self.addresses = addresses
            self.fqdns = fqdns
            self.ready = ready
            self.serving = serving
            self.terminating = terminating
            self.hostname = hostname
            self.zone = zone
            self.nodeName = nodeName
        }
    }

    public struct Port: Sendable, Hashable {
        public var name: String?
        public var `protocol`: String?
        public var port: Int?

        public init(name: String? = nil, protocol: String? = nil, port: Int? = nil) {
            self.name = name
            self.protocol = `protocol`
            self.port = port
        }
    }

    /// The label that ties a slice to its Service.
    public static let serviceNameLabel = "kubernetes.io/service-name"

    public var metadata: KubeObjectMeta
    /// The `kubernetes.io/service-name` label; nil when the slice belongs to no Service.
    public var serviceName: String?
    public var addressType: AddressType
    public var endpoints: [Endpoint]
    public var ports: [Port]

    public init(
        metadata: KubeObjectMeta,
        serviceName: String?,
        addressType: AddressType,
        endpoints: [Endpoint] = [],
        ports: [Port] = []
    ) {
        self.metadata = metadata
        self.serviceName = serviceName
        self.addressType = addressType
        self.endpoints = endpoints
        self.ports = ports
    }

    static func decode(_ object: FieldReader) throws(KubeDecodingError) -> KubeEndpointSlice {
        let (metadata, metadataReader) = try KubeObjectMeta.decode(object, namespaced: true)
        do {
            let labels = try metadataReader.stringMap("labels") { $0 == serviceNameLabel }
            return try decodeBody(object, metadata: metadata, serviceName: labels[serviceNameLabel])
        } catch {
            var error = error
            error.object = "EndpointSlice \(metadata.namespace)/\(metadata.name)"
            throw error
        }
    }

    private static func decodeBody(
        _ object: FieldReader,
        metadata: KubeObjectMeta,
        serviceName: String?
    ) throws(KubeDecodingError) -> KubeEndpointSlice {
        guard let typeName = try object.string("addressType") else { throw object.missing("addressType") }
        guard let addressType = AddressType(rawValue: typeName) else {
            throw object.invalid(
                "addressType",
                "\"\(typeName)\" is not one of IPv4, IPv6, FQDN",
                at: object.value("addressType")
            )
        }
        var slice = KubeEndpointSlice(metadata: metadata, serviceName: serviceName, addressType: addressType)

        for (item, path) in try object.array("endpoints") {
            let entry = try FieldReader(item, path: path)
            let raw = try entry.stringArray("addresses")
            guard !raw.isEmpty else { throw entry.missing("addresses") }
            var endpoint = Endpoint(addresses: [])
            if addressType == .fqdn {
                endpoint.fqdns = raw
            } else {
                for (index, text) in raw.enumerated() {
                    endpoint.addresses.append(try address(text, type: addressType, entry: entry, index: index))
                }
            }
            if let conditions = try entry.object("conditions") {
                endpoint.ready = try conditions.bool("ready")
                endpoint.serving = try conditions.bool("serving")
                endpoint.terminating = try conditions.bool("terminating")
            }
            endpoint.hostname = try entry.string("hostname")
            endpoint.zone = try entry.string("zone")
            endpoint.nodeName = try entry.string("nodeName")
            slice.endpoints.append(endpoint)
        }

        for (item, path) in try object.array("ports") {
            let entry = try FieldReader(item, path: path)
            let port = Port(
                name: try entry.string("name"),
                protocol: try entry.string("protocol"),
                port: try entry.int("port")
            )
            if let number = port.port, !(1...65535).contains(number) {
                throw entry.invalid("port", "\(number) is not a port number (1-65535)", at: entry.value("port"))
            }
            slice.ports.append(port)
        }
        return slice
    }

    private static func address(
        _ text: String,
        type: AddressType,
        entry: FieldReader,
        index: Int
    ) throws(KubeDecodingError) -> IPAddress {
        guard let address = IPAddress(text, family: type == .ipv6 ? .v6 : .v4) else {
            throw KubeDecodingError(
                path: "\(entry.childPath("addresses"))[\(index)]",
                line: entry.value("addresses")?.line ?? entry.line,
                problem: .invalidValue("\"\(text)\" is not an \(type.rawValue) address")
            )
        }
        return address
    }
}
