import Foundation
import KubeClient
import Testing

@Suite("Service decoding")
struct KubeServiceDecodingTests {
    static func service(spec: KubeValue = [:], metadata: KubeValue? = nil, status: KubeValue? = nil) -> KubeValue {
        var fields: [String: KubeValue] = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": metadata ?? ["name": "web", "namespace": "shop"],
            "spec": spec,
        ]
        if let status { fields["status"] = status }
        return KubeValue(.object(fields))
    }

    func decodeService(_ value: KubeValue) throws -> KubeService {
        guard case .service(let service)? = try KubeObject.decode(value) else {
            Issue.record("not decoded as a Service")
            throw KubeDecodingError(path: "", line: nil, problem: .missingField)
        }
        return service
    }

    @Test func loadBalancerWithDualStackAndPorts() throws {
        let service = try decodeService(
            Self.service(
                spec: [
                    "type": "LoadBalancer",
                    "clusterIPs": ["172.20.0.10", "FD00:22:0::10"],
                    "ipFamilies": ["IPv4", "IPv6"],
                    "ports": [["name": "http", "port": 80], ["name": "dns", "protocol": "UDP", "port": 53]],
                    "publishNotReadyAddresses": true,
                ],
                metadata: [
                    "name": "web", "namespace": "shop", "uid": "u-1", "resourceVersion": "42",
                    "creationTimestamp": "2024-03-01T10:00:00Z",
                    "annotations": [
                        "mcdns.io/export": "true", "kubectl.kubernetes.io/last-applied-configuration": "{}",
                    ],
                    "managedFields": [["manager": "kubectl"]],
                ],
                status: ["loadBalancer": ["ingress": [["ip": "203.0.113.10"], ["hostname": "lb.example.net"]]]]
            )
        )

        #expect(service.metadata.namespace == "shop")
        #expect(service.metadata.name == "web")
        #expect(service.metadata.uid == "u-1")
        #expect(service.metadata.resourceVersion == "42")
        #expect(service.metadata.creationTimestamp == Date(timeIntervalSince1970: 1_709_287_200))
        // Only mcdns.io annotations are kept.
        #expect(service.metadata.annotations == ["mcdns.io/export": "true"])
        #expect(service.type == .loadBalancer)
        #expect(!service.headless)
        #expect(service.clusterIPs == ["172.20.0.10", "fd00:22::10"])
        #expect(service.ipFamilies == ["IPv4", "IPv6"])
        #expect(
            service.ports == [
                .init(name: "http", protocol: "TCP", port: 80),
                .init(name: "dns", protocol: "UDP", port: 53),
            ]
        )
        #expect(service.publishNotReadyAddresses)
        #expect(service.loadBalancerIngress == [.init(ip: "203.0.113.10"), .init(hostname: "lb.example.net")])
    }

    @Test func defaultsFollowKubernetes() throws {
        let service = try decodeService(
            Self.service(
                spec: ["clusterIP": "10.0.0.1", "ports": [["port": 443]]],
                metadata: ["name": "plain"]
            )
        )
        #expect(service.metadata.namespace == "default")
        #expect(service.type == .clusterIP)
        #expect(service.clusterIPs == ["10.0.0.1"])
        #expect(service.ports == [.init(name: nil, protocol: "TCP", port: 443)])
        #expect(!service.publishNotReadyAddresses)
    }

    @Test func headless() throws {
        let service = try decodeService(Self.service(spec: ["clusterIP": "None"]))
        #expect(service.headless)
        #expect(service.clusterIPs.isEmpty)
    }

    @Test func externalName() throws {
        let service = try decodeService(Self.service(spec: ["type": "ExternalName", "externalName": "db.example.net"]))
        #expect(service.type == .externalName)
        #expect(service.externalName == "db.example.net")
        #expect(service.clusterIPs.isEmpty)
    }

    struct Malformed: Sendable, CustomTestStringConvertible {
        var name: String
        var value: KubeValue
        var path: String
        var problem: KubeDecodingError.Problem
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(
            name: "port is a string",
            value: service(spec: ["ports": [["port": "http"]]]),
            path: "spec.ports[0].port",
            problem: .wrongType(expected: "an integer", found: "string \"http\"")
        ),
        Malformed(
            name: "port out of range",
            value: service(spec: ["ports": [["port": 80], ["port": 70000]]]),
            path: "spec.ports[1].port",
            problem: .invalidValue("70000 is not a port number (1-65535)")
        ),
        Malformed(
            name: "port missing",
            value: service(spec: ["ports": [["name": "http"]]]),
            path: "spec.ports[0].port",
            problem: .missingField
        ),
        Malformed(
            name: "unknown protocol",
            value: service(spec: ["ports": [["port": 80, "protocol": "tcp"]]]),
            path: "spec.ports[0].protocol",
            problem: .invalidValue("\"tcp\" is not TCP, UDP or SCTP")
        ),
        Malformed(
            name: "missing name",
            value: service(metadata: ["namespace": "shop"]),
            path: "metadata.name",
            problem: .missingField
        ),
        Malformed(
            name: "missing metadata",
            value: ["apiVersion": "v1", "kind": "Service"],
            path: "metadata",
            problem: .missingField
        ),
        Malformed(
            name: "name is a number",
            value: service(metadata: ["name": 7]),
            path: "metadata.name",
            problem: .wrongType(expected: "a string", found: "integer 7")
        ),
        Malformed(
            name: "bad clusterIP",
            value: service(spec: ["clusterIP": "10.0.0.300"]),
            path: "spec.clusterIPs[0]",
            problem: .invalidValue("\"10.0.0.300\" is not an IP address")
        ),
        Malformed(
            name: "bad load balancer ip",
            value: service(status: ["loadBalancer": ["ingress": [["ip": "not-an-ip"]]]]),
            path: "status.loadBalancer.ingress[0].ip",
            problem: .invalidValue("\"not-an-ip\" is not an IP address")
        ),
        Malformed(
            name: "unknown type",
            value: service(spec: ["type": "Magic"]),
            path: "spec.type",
            problem: .invalidValue("\"Magic\" is not one of ClusterIP, NodePort, LoadBalancer, ExternalName")
        ),
        Malformed(
            name: "ExternalName without a name",
            value: service(spec: ["type": "ExternalName"]),
            path: "spec.externalName",
            problem: .invalidValue("required when type is ExternalName")
        ),
        Malformed(
            name: "annotation is a boolean",
            value: service(metadata: ["name": "web", "annotations": ["mcdns.io/export": true]]),
            path: "metadata.annotations[mcdns.io/export]",
            problem: .wrongType(expected: "a string (quote the value)", found: "boolean true")
        ),
        Malformed(
            name: "publishNotReadyAddresses is a string",
            value: service(spec: ["publishNotReadyAddresses": "yes"]),
            path: "spec.publishNotReadyAddresses",
            problem: .wrongType(expected: "a boolean (true or false, unquoted)", found: "string \"yes\"")
        ),
        Malformed(
            name: "bad creation time",
            value: service(metadata: ["name": "web", "creationTimestamp": "yesterday"]),
            path: "metadata.creationTimestamp",
            problem: .invalidValue("\"yesterday\" is not an RFC 3339 time such as 2024-05-01T12:00:00Z")
        ),
        Malformed(
            name: "spec is a list",
            value: service(spec: ["a"]),
            path: "spec",
            problem: .wrongType(expected: "a mapping", found: "a list")
        ),
    ]

    @Test(arguments: malformed)
    func malformedServicesSayWhichField(_ testCase: Malformed) {
        #expect {
            _ = try KubeObject.decode(testCase.value)
        } throws: { error in
            guard let error = error as? KubeDecodingError else { return false }
            #expect(error.path == testCase.path)
            #expect(error.problem == testCase.problem)
            return true
        }
    }

    @Test func errorDescriptionNamesObjectFieldAndProblem() {
        var value = Self.service(spec: ["ports": [["port": KubeValue(.string("http"), line: 14)]]])
        value.line = 1
        do {
            _ = try KubeObject.decode(value)
            Issue.record("decoded a malformed Service")
        } catch {
            #expect(error.line == 14)
            #expect(
                error.description == "Service shop/web: spec.ports[0].port: expected an integer, found string \"http\""
            )
        }
    }
}
