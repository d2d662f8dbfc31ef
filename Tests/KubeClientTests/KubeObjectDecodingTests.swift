import Foundation
import KubeClient
import Testing

@Suite("Object and document decoding")
struct KubeObjectDecodingTests {
    @Test func serviceExport() throws {
        let object = try KubeObject.decode([
            "apiVersion": "multicluster.x-k8s.io/v1alpha1", "kind": "ServiceExport",
            "metadata": ["name": "api", "namespace": "shop", "creationTimestamp": "2024-03-01T10:05:00Z"],
        ])
        guard case .serviceExport(let export)? = object else {
            Issue.record("not a ServiceExport: \(String(describing: object))")
            return
        }
        #expect(export.metadata.name == "api")
        #expect(export.metadata.namespace == "shop")
        #expect(export.metadata.creationTimestamp == Date(timeIntervalSince1970: 1_709_287_500))
        #expect(object?.ref == KubeObjectRef(kind: .serviceExport, namespace: "shop", name: "api"))
    }

    @Test func nodeTopologyLabels() throws {
        let current = try KubeObject.decode([
            "apiVersion": "v1", "kind": "Node",
            "metadata": [
                "name": "n1",
                "labels": [
                    "topology.kubernetes.io/region": "us-east-1", "topology.kubernetes.io/zone": "us-east-1a",
                    "failure-domain.beta.kubernetes.io/zone": "old-zone", "kubernetes.io/hostname": "n1",
                ],
            ],
        ])
        #expect(current == .node(KubeNode(name: "n1", region: "us-east-1", zone: "us-east-1a")))
        #expect(current?.ref == KubeObjectRef(kind: .node, namespace: "", name: "n1"))

        let legacy = try KubeObject.decode([
            "apiVersion": "v1", "kind": "Node",
            "metadata": [
                "name": "n2",
                "labels": [
                    "failure-domain.beta.kubernetes.io/region": "us-west-2",
                    "failure-domain.beta.kubernetes.io/zone": "us-west-2a",
                ],
            ],
        ])
        #expect(legacy == .node(KubeNode(name: "n2", region: "us-west-2", zone: "us-west-2a")))

        let bare = try KubeObject.decode(["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n3"]])
        #expect(bare == .node(KubeNode(name: "n3")))
    }

    @Test func nodeWithoutName() {
        #expect(throws: KubeDecodingError(path: "metadata.name", line: nil, problem: .missingField)) {
            try KubeObject.decode(["apiVersion": "v1", "kind": "Node", "metadata": ["labels": [:]]])
        }
    }

    @Test func otherKindsAreNotRead() throws {
        #expect(
            try KubeObject.decode(["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "x"]]) == nil
        )
        // A CRD that happens to be called Service is someone else's.
        #expect(
            try KubeObject.decode(["apiVersion": "example.com/v1", "kind": "Service", "metadata": ["name": "x"]]) == nil
        )
    }

    @Test func knownKindInAnotherVersionIsAnError() {
        #expect(
            throws: KubeDecodingError(
                path: "apiVersion",
                line: nil,
                problem: .unsupportedVersion(
                    kind: "EndpointSlice",
                    apiVersion: "discovery.k8s.io/v1beta1",
                    supported: "discovery.k8s.io/v1"
                )
            )
        ) {
            try KubeObject.decode([
                "apiVersion": "discovery.k8s.io/v1beta1", "kind": "EndpointSlice",
                "metadata": ["name": "x"], "addressType": "IPv4",
            ])
        }
    }

    @Test func documentMustBeAMapping() {
        #expect(
            throws: KubeDecodingError(
                path: "",
                line: 3,
                problem: .wrongType(expected: "a mapping", found: "string \"hello\"")
            )
        ) {
            try KubeDocument.decode(KubeValue(.string("hello"), line: 3))
        }
    }

    @Test func listDocuments() throws {
        let document = try KubeDocument.decode([
            "apiVersion": "v1", "kind": "List",
            "items": [
                ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "a", "namespace": "ns"]],
                ["apiVersion": "apps/v1", "kind": "Deployment", "metadata": ["name": "d"]],
                ["apiVersion": "v1", "kind": "Node", "metadata": ["name": "n"]],
            ],
        ])
        #expect(
            document.objects.map(\.ref) == [
                KubeObjectRef(kind: .service, namespace: "ns", name: "a"),
                KubeObjectRef(kind: .node, namespace: "", name: "n"),
            ]
        )
        #expect(document.ignored.map(\.description) == ["apps/v1 Deployment d"])
    }

    @Test func errorInListItemNamesTheItem() {
        #expect {
            try KubeDocument.decode([
                "apiVersion": "v1", "kind": "ServiceList",
                "items": [
                    ["apiVersion": "v1", "kind": "Service", "metadata": ["name": "a"]],
                    [
                        "apiVersion": "v1", "kind": "Service", "metadata": ["name": "b"],
                        "spec": ["ports": [["port": true]]],
                    ],
                ],
            ])
        } throws: { error in
            (error as? KubeDecodingError)?.path == "items[1].spec.ports[0].port"
        }
    }

    @Test func jsonFromFoundationKeepsBooleansAndNumbersApart() throws {
        let json = """
            {"apiVersion": "v1", "kind": "Service",
             "metadata": {"name": "web", "namespace": "shop", "annotations": {"mcdns.io/ttl": "10"}},
             "spec": {"clusterIP": "10.0.0.1", "publishNotReadyAddresses": true, "ports": [{"port": 1}]}}
            """
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        let value = try KubeValue(jsonObject: object)
        guard case .service(let service)? = try KubeObject.decode(value) else {
            Issue.record("not a Service")
            return
        }
        #expect(service.publishNotReadyAddresses == true)
        #expect(service.ports == [.init(port: 1)])
        #expect(service.metadata.annotations["mcdns.io/ttl"] == "10")

        // `"publishNotReadyAddresses": 1` is a number, not a boolean, as the API server would also say.
        let numeric = try JSONSerialization.jsonObject(with: Data(#"{"spec": {"publishNotReadyAddresses": 1}}"#.utf8))
        let numericValue = try KubeValue(jsonObject: numeric)
        guard case .object(let fields) = numericValue.content, case .object(let spec)? = fields["spec"]?.content else {
            Issue.record("not a mapping")
            return
        }
        #expect(spec["publishNotReadyAddresses"]?.content == .int(1))
    }
}
