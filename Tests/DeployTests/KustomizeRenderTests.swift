import DNSTestSupport
import Foundation
import Testing

/// Every kustomization renders, and every rendered object is valid against the Kubernetes API schemas
/// (kubernetes-validate carries them, so this runs offline), strictly: an unknown or misspelt field fails.
@Suite struct KustomizeRenderTests {
    /// The oldest API we promise (mixed-protocol LoadBalancer Services are GA from 1.26) and a current one.
    static let kubernetesVersions = ["1.26.0", "1.33.0"]

    @Test(arguments: DeployFixture.allBases)
    func rendersAndValidates(base: String) throws {
        let rendered = try DeployFixture.render(base)
        #expect(!rendered.documents.isEmpty, "\(base) rendered nothing")
        for document in rendered.documents {
            #expect(document["apiVersion"].string != nil && document["kind"].string != nil)
            #expect(document["metadata"]["name"].string != nil, "\(base): an object without a name")
        }
        let directory = try TemporaryDirectory(prefix: "mcdns-deploy")
        defer { directory.remove() }
        let file = try directory.write("rendered.yaml", rendered.yaml)
        for version in Self.kubernetesVersions {
            try expectValid(file: file, documents: rendered.documents.count, version: version, what: base)
        }
    }

    /// The member-side CoreDNS and kube-dns ConfigMaps are plain objects too.
    @Test(arguments: ["deploy/coredns/coredns-configmap.yaml", "deploy/coredns/kube-dns-stubdomains.yaml"])
    func coreDNSConfigMapsValidate(file: String) throws {
        let text = try String(contentsOfFile: DeployFixture.path(file), encoding: .utf8)
        try expectValid(
            file: DeployFixture.path(file),
            documents: try YAMLNode.documents(text).count,
            version: Self.kubernetesVersions[1],
            what: file
        )
    }

    /// The validator itself catches mistakes: a Service with a port that is not a number, and an unknown field.
    @Test func validatorRejectsBrokenObjects() throws {
        let directory = try TemporaryDirectory(prefix: "mcdns-deploy")
        defer { directory.remove() }
        let file = try directory.write(
            "broken.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: { name: broken }
            spec:
              ports: [ { port: dns } ]
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: { name: misspelt }
            spec:
              replica: 2
              selector: { matchLabels: { a: b } }
              template:
                metadata: { labels: { a: b } }
                spec: { containers: [ { name: c, image: i } ] }
            """
        )
        let output = try runValidator(file: file, version: Self.kubernetesVersions[1])
        #expect(output.status != 0)
        #expect(output.stdout.contains("service/broken"), "\(output.stdout)")
        #expect(output.stdout.contains("replica"), "\(output.stdout)")
    }

    func runValidator(file: String, version: String) throws -> ProcessOutput {
        let validator = try DeployFixture.pythonTool("kubernetes-validate")
        let output = try ProcessRunner.run(
            validator,
            ["--strict", "--no-warn", "--kubernetes-version", version, file],
            timeout: .seconds(120)
        )
        #expect(!output.timedOut, "kubernetes-validate timed out")
        return output
    }

    /// kubernetes-validate prints one "passed" line per valid object; every object must have one.
    func expectValid(file: String, documents: Int, version: String, what: String) throws {
        let output = try runValidator(file: file, version: version)
        let passed = output.stdout.split(separator: "\n").filter { $0.hasPrefix("INFO") && $0.contains(" passed ") }
        #expect(output.status == 0, "\(what) against \(version):\n\(output.stdout)\(output.stderr)")
        #expect(
            passed.count == documents,
            "\(what) against \(version): \(passed.count) of \(documents) passed\n\(output.stdout)"
        )
    }
}
