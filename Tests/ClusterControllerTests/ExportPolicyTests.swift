import ClusterController
import KubeClient
import Testing

@Suite("Export selection")
struct ExportPolicyTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var policy: ExportPolicy
        var service: KubeService
        var export: KubeServiceExport?
        var expected: ExportPolicy.Reason?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "annotation true",
            policy: ExportPolicy(),
            service: F.service(annotations: ["mcdns.io/export": "true"]),
            expected: .annotation
        ),
        Case(
            name: "annotation True (any case)",
            policy: ExportPolicy(),
            service: F.service(annotations: ["mcdns.io/export": "True"]),
            expected: .annotation
        ),
        Case(
            name: "annotation false",
            policy: ExportPolicy(),
            service: F.service(annotations: ["mcdns.io/export": "false"]),
            expected: nil
        ),
        Case(
            name: "annotation rule off",
            policy: ExportPolicy(annotation: nil),
            service: F.service(annotations: ["mcdns.io/export": "true"]),
            expected: nil
        ),
        Case(
            name: "custom annotation",
            policy: ExportPolicy(annotation: "mcdns.io/global"),
            service: F.service(annotations: ["mcdns.io/global": "true"]),
            expected: .annotation
        ),
        Case(
            name: "ServiceExport",
            policy: ExportPolicy(),
            service: F.service(annotations: [:]),
            export: F.export(),
            expected: .serviceExport
        ),
        Case(
            name: "ServiceExport rule off",
            policy: ExportPolicy(serviceExport: false),
            service: F.service(annotations: [:]),
            export: F.export(),
            expected: nil
        ),
        Case(
            name: "listed namespace",
            policy: ExportPolicy(namespaces: ["shop"]),
            service: F.service(annotations: [:]),
            expected: .namespace
        ),
        Case(
            name: "other namespace",
            policy: ExportPolicy(namespaces: ["billing"]),
            service: F.service(annotations: [:]),
            expected: nil
        ),
        Case(name: "not exported", policy: ExportPolicy(), service: F.service(annotations: [:]), expected: nil),
    ]

    @Test(arguments: cases)
    func selection(_ testCase: Case) {
        #expect(testCase.policy.reason(for: testCase.service, export: testCase.export) == testCase.expected)
    }

    @Test func annotationMustBeOneTheDecoderKeeps() {
        let configuration = ControllerConfiguration(members: [], export: ExportPolicy(annotation: "example.com/export"))
        #expect(throws: ControllerError.self) { try configuration.validate() }
        #expect(throws: Never.self) { try ControllerConfiguration(members: []).validate() }
    }
}
