import DNSTestSupport
import Foundation
import Testing

/// The ServiceDNSRecord CRD: a structural schema, printer columns that point at real fields, and the examples
/// under examples/servicednsrecords valid against it (python jsonschema runs the CRD's own openAPIV3Schema).
@Suite struct CRDSchemaTests {
    static let crdFile = "deploy/crd/servicednsrecords.multicluster.mcdns.io.yaml"
    static let examplesDirectory = "examples/servicednsrecords"

    func crd() throws -> YAMLNode {
        let text = try String(contentsOfFile: DeployFixture.path(Self.crdFile), encoding: .utf8)
        return try #require(try YAMLNode.documents(text).first)
    }

    func version(_ crd: YAMLNode) throws -> YAMLNode {
        try #require(crd["spec"]["versions"].array.first { $0["name"].string == "v1alpha1" })
    }

    @Test func namesAndVersion() throws {
        let crd = try crd()
        #expect(crd["metadata"]["name"].string == "servicednsrecords.multicluster.mcdns.io")
        #expect(crd["spec"]["group"].string == "multicluster.mcdns.io")
        #expect(crd["spec"]["scope"].string == "Namespaced")
        #expect(crd["spec"]["names"]["kind"].string == "ServiceDNSRecord")
        let v1alpha1 = try version(crd)
        #expect(v1alpha1["served"].bool == true && v1alpha1["storage"].bool == true)
        #expect(v1alpha1["subresources"]["status"].exists, "the status must be a subresource")
    }

    /// Structural (what the API server requires of a v1 CRD): every node states its type, and the spec and
    /// status fields mcdns reads and writes are all there.
    @Test func schemaIsStructural() throws {
        let schema = try version(try crd())["schema"]["openAPIV3Schema"]
        var problems: [String] = []
        Self.walk(schema, path: "", problems: &problems)
        #expect(problems.isEmpty, "\(problems)")
        let spec = schema["properties"]["spec"]["properties"]
        #expect(spec.keys == ["allowServiceWithoutEndpoints", "dnsPrefix", "domainRef", "externalName", "recordTTL",
                              "trafficPolicy"])
        let status = schema["properties"]["status"]["properties"]
        for field in ["dns", "headless", "ports", "conditions", "observedGeneration", "externalTarget"] {
            #expect(status[field].exists, "status.\(field) is missing")
        }
        let dns = status["dns"]["items"]["properties"]
        for field in [
            "cluster", "region", "zones", "loadBalancer", "clusterIPs", "readyEndpoints", "stale", "lastObserved",
        ] {
            #expect(dns[field].exists, "status.dns[].\(field) is missing")
        }
        #expect(dns["loadBalancer"]["properties"]["ingress"]["items"]["properties"].keys == ["hostname", "ip"])
        let condition = status["conditions"]["items"]["properties"]
        #expect(condition.keys == ["lastTransitionTime", "message", "observedGeneration", "reason", "status", "type"])
        #expect(condition["status"]["enum"].strings == ["True", "False", "Unknown"])
        #expect(schema["properties"]["spec"]["properties"]["recordTTL"]["maximum"].int == 2_147_483_647)
    }

    /// Every property and item schema has a type (or says it preserves unknown fields), and list-map keys are
    /// required fields of their items.
    static func walk(_ node: YAMLNode, path: String, problems: inout [String]) {
        if !node["type"].exists && node["x-kubernetes-preserve-unknown-fields"].bool != true
            && node["x-kubernetes-int-or-string"].bool != true
        {
            problems.append("\(path.isEmpty ? "(root)" : path): no type")
        }
        if node["x-kubernetes-list-type"].string == "map" {
            let required = Set(node["items"]["required"].strings)
            for key in node["x-kubernetes-list-map-keys"].strings where !required.contains(key) {
                problems.append("\(path): list-map key \(key) is not required")
            }
        }
        for (name, child) in node["properties"].mapping { walk(child, path: "\(path).\(name)", problems: &problems) }
        if node["items"].exists { walk(node["items"], path: "\(path)[]", problems: &problems) }
    }

    /// A printer column whose jsonPath names no field shows an empty column forever: follow each path.
    @Test func printerColumnsPointAtFields() throws {
        let v1alpha1 = try version(try crd())
        let schema = v1alpha1["schema"]["openAPIV3Schema"]
        let columns = v1alpha1["additionalPrinterColumns"].array
        #expect(
            columns.map(\.["name"].string)
                == ["Ready", "Clusters", "Ready Clusters", "Headless", "TTL", "Prefix", "Policy", "Reason", "Age"]
        )
        for column in columns {
            let path = try #require(column["jsonPath"].string)
            // kubectl prints only the first item of a `[*]` path: a column of a list shows one cluster of three.
            #expect(!path.contains("[*]"), "column \(column["name"]) lists with \(path); point it at a summary")
            if path == ".metadata.creationTimestamp" { continue }
            var node = schema
            // ".status.conditions[?(@.type==\"Ready\")].status" → status, conditions[], status
            let cleaned = path.replacingOccurrences(of: #"\[[^\]]*\]"#, with: "[]", options: .regularExpression)
            for segment in cleaned.split(separator: ".") {
                let isList = segment.hasSuffix("[]")
                node = node["properties"][String(segment.dropLast(isList ? 2 : 0))]
                if isList { node = node["items"] }
            }
            #expect(node.exists, "column \(column["name"]) points at \(path), which the schema does not have")
            let expected = ["string": "string", "integer": "integer", "boolean": "boolean"][node["type"].string ?? ""]
            #expect(expected == column["type"].string, "column \(column["name"]): \(path) is \(node["type"])")
        }
    }

    /// What jsonschema says of each document of each file, one "file#index: ok|invalid: reason" line each.
    func validateAgainstSchema(_ files: [String]) throws -> [String] {
        let python = try DeployFixture.pythonTool("python3")
        let script = """
            import sys, yaml, jsonschema
            crd = yaml.safe_load(open(sys.argv[1]))
            version = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")
            validator = jsonschema.Draft7Validator(version["schema"]["openAPIV3Schema"],
                                                  format_checker=jsonschema.FormatChecker())
            for name in sys.argv[2:]:
                for index, document in enumerate(yaml.safe_load_all(open(name))):
                    if document is None:
                        continue
                    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
                    verdict = "ok" if not errors else "invalid: " + "; ".join(
                        "/".join(map(str, e.path)) + " " + e.message for e in errors)
                    print(f"{name}#{index}: {verdict}")
            """
        let output = try ProcessRunner.run(
            python,
            ["-c", script, DeployFixture.path(Self.crdFile)] + files,
            timeout: .seconds(60)
        )
        #expect(output.status == 0, "\(output.stderr)")
        return output.stdout.split(separator: "\n").map(String.init)
    }

    @Test func examplesValidateAgainstTheCRD() throws {
        let directory = DeployFixture.path(Self.examplesDirectory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yaml") }.sorted().map { directory + "/" + $0 }
        #expect(files.count >= 3)
        let verdicts = try validateAgainstSchema(files)
        #expect(verdicts.count == files.count, "\(verdicts)")
        for verdict in verdicts { #expect(verdict.hasSuffix(": ok"), "\(verdict)") }
        // They are ServiceDNSRecords of this group and version, not just any valid-looking YAML.
        for file in files {
            let document = try #require(try YAMLNode.documents(String(contentsOfFile: file, encoding: .utf8)).first)
            #expect(document["apiVersion"].string == "multicluster.mcdns.io/v1alpha1")
            #expect(document["kind"].string == "ServiceDNSRecord")
        }
    }

    /// The validation bites: each of these breaks one rule of the schema.
    @Test(arguments: [
        ("recordTTL: -1", "recordTTL"),
        ("recordTTL: 2147483648", "recordTTL"),
        ("recordTTL: \"30\"", "recordTTL"),
        ("dnsPrefix: Www_Shop", "dnsPrefix"),
        ("externalName: a.b", "externalName"),
        ("allowServiceWithoutEndpoints: maybe", "allowServiceWithoutEndpoints"),
    ])
    func schemaRejectsBadSpecs(line: String, field: String) throws {
        let verdict = try validateOne("spec:\n  \(line)\n")
        #expect(verdict.contains("invalid") && verdict.contains(field), "\(verdict)")
    }

    @Test(arguments: [
        ("dns: [ { cluster: East_1 } ]", "cluster"),
        ("dns: [ { region: us-east-1 } ]", "cluster"),
        ("ports: [ { protocol: HTTP, port: 80 } ]", "protocol"),
        ("ports: [ { protocol: TCP, port: 70000 } ]", "port"),
        ("conditions: [ { type: Ready, status: \"yes\" } ]", "status"),
        ("conditions: [ { type: Ready, status: \"True\", reason: \"not a reason\" } ]", "reason"),
        ("conditions: [ { type: Ready, status: \"True\", lastTransitionTime: yesterday } ]", "lastTransitionTime"),
    ])
    func schemaRejectsBadStatus(line: String, field: String) throws {
        let verdict = try validateOne("spec: {}\nstatus:\n  \(line)\n")
        #expect(verdict.contains("invalid") && verdict.contains(field), "\(verdict)")
    }

    func validateOne(_ body: String) throws -> String {
        let directory = try TemporaryDirectory(prefix: "mcdns-crd")
        defer { directory.remove() }
        let file = try directory.write(
            "record.yaml",
            "apiVersion: multicluster.mcdns.io/v1alpha1\nkind: ServiceDNSRecord\nmetadata: { name: web, namespace: shop }\n"
                + body
        )
        return try validateAgainstSchema([file]).joined(separator: "\n")
    }
}
