import KubeClient
import Testing

@Suite("EndpointSlice decoding")
struct KubeEndpointSliceDecodingTests {
    static func slice(
        addressType: KubeValue = "IPv4",
        endpoints: KubeValue,
        labels: KubeValue? = nil,
        ports: KubeValue = []
    ) -> KubeValue {
        [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": [
                "name": "web-abc", "namespace": "shop",
                "labels": labels ?? ["kubernetes.io/service-name": "web", "app": "web"],
            ],
            "addressType": addressType,
            "endpoints": endpoints,
            "ports": ports,
        ]
    }

    func decodeSlice(_ value: KubeValue) throws -> KubeEndpointSlice {
        guard case .endpointSlice(let slice)? = try KubeObject.decode(value) else {
            Issue.record("not decoded as an EndpointSlice")
            throw KubeDecodingError(path: "", line: nil, problem: .missingField)
        }
        return slice
    }

    @Test func fullSlice() throws {
        let slice = try decodeSlice(
            Self.slice(
                endpoints: [
                    [
                        "addresses": ["10.1.0.11"],
                        "conditions": ["ready": true, "serving": true, "terminating": false],
                        "hostname": "web-0", "zone": "us-east-1a", "nodeName": "node-a",
                    ],
                    ["addresses": ["10.1.0.12"]],
                ],
                ports: [["name": "http", "protocol": "TCP", "port": 8080]]
            )
        )
        #expect(slice.metadata.name == "web-abc")
        #expect(slice.serviceName == "web")
        #expect(slice.addressType == .ipv4)
        #expect(
            slice.endpoints == [
                .init(
                    addresses: ["10.1.0.11"],
                    ready: true,
                    serving: true,
                    terminating: false,
                    hostname: "web-0",
                    zone: "us-east-1a",
                    nodeName: "node-a"
                ),
                // Absent conditions stay absent: the merge applies Kubernetes' "absent ready = ready" rule.
                .init(addresses: ["10.1.0.12"]),
            ]
        )
        #expect(slice.ports == [.init(name: "http", protocol: "TCP", port: 8080)])
    }

    @Test func ipv6AddressesAreCanonical() throws {
        let slice = try decodeSlice(Self.slice(addressType: "IPv6", endpoints: [["addresses": ["FD00:0003:0:0::11"]]]))
        #expect(slice.endpoints.first?.addresses == ["fd00:3::11"])
    }

    @Test func sliceWithoutServiceLabel() throws {
        let slice = try decodeSlice(Self.slice(endpoints: [], labels: ["app": "web"]))
        #expect(slice.serviceName == nil)
    }

    @Test func fqdnAddressesAreKeptAsText() throws {
        let slice = try decodeSlice(Self.slice(addressType: "FQDN", endpoints: [["addresses": ["db.example.net"]]]))
        #expect(slice.endpoints.first?.fqdns == ["db.example.net"])
        #expect(slice.endpoints.first?.addresses == [])
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var name: String
        var value: KubeValue
        var path: String
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(
            name: "bad IPv4",
            value: slice(endpoints: [["addresses": ["10.0.0.1"]], ["addresses": ["10.0.0.256"]]]),
            path: "endpoints[1].addresses[0]"
        ),
        Malformed(
            name: "IPv6 in an IPv4 slice",
            value: slice(endpoints: [["addresses": ["fd00::1"]]]),
            path: "endpoints[0].addresses[0]"
        ),
        Malformed(name: "no addresses", value: slice(endpoints: [["addresses": []]]), path: "endpoints[0].addresses"),
        Malformed(
            name: "ready is a string",
            value: slice(endpoints: [["addresses": ["10.0.0.1"], "conditions": ["ready": "true"]]]),
            path: "endpoints[0].conditions.ready"
        ),
        Malformed(name: "unknown address type", value: slice(addressType: "IPX", endpoints: []), path: "addressType"),
        Malformed(
            name: "missing address type",
            value: [
                "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
                "metadata": ["name": "x", "namespace": "shop"],
            ],
            path: "addressType"
        ),
        Malformed(name: "endpoints is a mapping", value: slice(endpoints: ["a": 1]), path: "endpoints"),
        Malformed(
            name: "port number is a string",
            value: slice(endpoints: [], ports: [["port": "8080"]]),
            path: "ports[0].port"
        ),
        Malformed(
            name: "label value is a number",
            value: slice(endpoints: [], labels: ["kubernetes.io/service-name": 5]),
            path: "metadata.labels[kubernetes.io/service-name]"
        ),
    ]

    @Test(arguments: malformed)
    func malformedSlicesSayWhichField(_ testCase: Malformed) {
        #expect {
            _ = try KubeObject.decode(testCase.value)
        } throws: { error in
            guard let error = error as? KubeDecodingError else { return false }
            #expect(error.path == testCase.path, "\(error)")
            #expect(error.object?.hasPrefix("EndpointSlice shop/") == true)
            return true
        }
    }
}
