import ClusterController
import Foundation
import KubeClient
import Testing

@Suite("Manifest parsing")
struct ManifestParserTests {
    @Test func multiDocumentFile() throws {
        let text =
            Manifests.service("web", ip: "10.0.0.1") + "\n---\n"
            + Manifests.slice("web-a", service: "web", addresses: ["10.1.0.1"])
            + "\n---\n# only a comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n"
        let document = try ManifestParser.parse(text, file: "web.yaml")
        #expect(
            document.objects.map(\.ref) == [
                KubeObjectRef(kind: .service, namespace: "shop", name: "web"),
                KubeObjectRef(kind: .endpointSlice, namespace: "shop", name: "web-a"),
            ]
        )
        #expect(document.ignored.map(\.kind) == ["ConfigMap"])
        #expect(document.ignored.first?.line == 27)
    }

    static func rejected(_ text: String, budget: YAMLBudget? = nil) -> ManifestError? {
        do {
            if let budget {
                _ = try ManifestParser.parse(text, file: "m.yaml", budget: budget)
            } else {
                _ = try ManifestParser.parse(text, file: "m.yaml")
            }
            return nil
        } catch {
            return error
        }
    }

    /// Issue 22, finding 2: a 576-byte ConfigMap of ten levels of nine aliases took the daemon to 3.6 GB. Seven
    /// levels (4.8 million nodes) is enough to go over the budget and small enough to parse without it.
    @Test(arguments: [7, 10])
    func aliasExpansionIsBoundedBeforeComposing(levels: Int) throws {
        let text = Manifests.laughs(levels: levels)
        let error = try #require(Self.rejected(text))
        // At the line of the alias that goes over: l6, the seventh level.
        #expect(error.description.hasPrefix("m.yaml:11: "), "\(error)")
        #expect(error.message.contains("expands to more than 1000000 nodes"), "\(error)")
        // Six levels (about 600,000 nodes) stay under it.
        #expect(Self.rejected(Manifests.laughs(levels: 6)) == nil)
    }

    @Test func aliasesAsKeysAreBoundedToo() throws {
        // Yams hashes mapping keys to find duplicates: an expanded alias as a key is as costly as a value.
        let text = Manifests.laughs(levels: 7) + "  ? *l6\n  : x\n"
        #expect(Self.rejected(text, budget: YAMLBudget(maxBytes: 1 << 20, maxNodes: 10_000, maxDepth: 64)) != nil)
    }

    @Test func depthAndSizeAreBounded() throws {
        let deep = "data: " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "\n"
        let error = try #require(Self.rejected(deep))
        #expect(error.description == "m.yaml:1: YAML nested more than 64 levels deep")
        let small = YAMLBudget(maxBytes: 100, maxNodes: 1_000_000, maxDepth: 64)
        let large = try #require(Self.rejected(Manifests.service("web", ip: "10.0.0.1"), budget: small))
        #expect(large.message.contains("larger than the limit of 100 bytes"))
        #expect(Self.rejected(Manifests.service("web", ip: "10.0.0.1")) == nil)
    }

    @Test func yamlSyntaxErrorHasFileAndLine() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: [web\n  namespace: shop\n"
        #expect {
            try ManifestParser.parse(text, file: "dir/broken.yaml")
        } throws: { error in
            guard let error = error as? ManifestError else { return false }
            #expect(error.file == "dir/broken.yaml")
            #expect(error.line != nil)
            #expect(error.description.hasPrefix("dir/broken.yaml:\(error.line ?? 0): YAML syntax"))
            return true
        }
    }

    @Test func malformedObjectHasTheLineOfTheField() {
        let text =
            Manifests.service("ok", ip: "10.0.0.1") + "\n---\n" + """
                apiVersion: v1
                kind: Service
                metadata:
                  name: web
                  namespace: shop
                spec:
                  ports:
                    - name: http
                      port: eighty
                """
        #expect {
            try ManifestParser.parse(text, file: "web.yaml")
        } throws: { error in
            guard let error = error as? ManifestError else { return false }
            #expect(
                error.description
                    == "web.yaml:22: Service shop/web: spec.ports[0].port: expected an integer, found string \"eighty\""
            )
            return true
        }
    }

    @Test func yamlTypesFollowKubernetes() throws {
        // Unquoted timestamps stay text for the RFC 3339 parser; quoted numbers are strings, so a quoted port fails.
        let good = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  creationTimestamp: 2024-03-01T10:00:00Z\n"
        let document = try ManifestParser.parse(good, file: "a.yaml")
        guard case .service(let service)? = document.objects.first else {
            Issue.record("no Service")
            return
        }
        #expect(service.metadata.creationTimestamp == F.date("2024-03-01T10:00:00Z"))
        #expect(throws: ManifestError.self) {
            try ManifestParser.parse(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports: [{port: \"80\"}]\n",
                file: "b.yaml"
            )
        }
    }

    /// YAML 1.1 reads `1:30` as the base-60 integer 90; Kubernetes' reader (go-yaml) keeps it as text, and so do
    /// we. Yams' base-60 arithmetic trapped on an overflowing one (found by ManifestFuzz): the whole daemon ended.
    @Test func baseSixtyNumbersStayText() throws {
        let text = """
            apiVersion: v1
            kind: Service
            metadata:
              name: a
              annotations: {mcdns.io/huge: 999999999999999999:59, mcdns.io/time: 1:30, mcdns.io/float: 1:30.5}

            """
        let document = try ManifestParser.parse(text, file: "a.yaml")
        guard case .service(let service)? = document.objects.first else {
            Issue.record("no Service: \(document)")
            return
        }
        #expect(service.metadata.annotations["mcdns.io/huge"] == "999999999999999999:59")
        #expect(service.metadata.annotations["mcdns.io/time"] == "1:30")
        #expect(service.metadata.annotations["mcdns.io/float"] == "1:30.5")
        // As a port it is text, which a port is not.
        #expect(throws: ManifestError.self) {
            try ManifestParser.parse(
                "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\nspec:\n  ports: [{port: 1:30}]\n", file: "b.yaml")
        }
    }

    @Test func demoMembersLoadCleanly() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("examples/demo/members").path
        var services: [String: Set<String>] = [:]
        for member in ["east-1", "east-2", "west-1"] {
            let (objects, errors) = ManifestSource.check(directory: root + "/" + member)
            #expect(errors.isEmpty, "\(errors)")
            #expect(objects.contains { $0.ref.kind == .node })
            services[member] = Set(objects.filter { $0.ref.kind == .service }.map(\.ref.name))
        }
        #expect(services["east-1"] == ["web", "api", "db", "legacy", "cache"])
        #expect(services["east-2"] == ["web", "api"])
        #expect(services["west-1"] == ["web", "api", "db"])
    }
}
