import DNSTestSupport
import Foundation
import KubeAPISimulator
import Testing

/// The real kubectl against the simulator: it speaks the protocol well enough for a real client.
@Suite(.serialized) struct KubectlTests {
    struct Kubectl {
        let executable: String
        let directory: TemporaryDirectory
        let kubeconfig: String

        init(server: String, user: String, directory: TemporaryDirectory, certificateAuthority: String? = nil)
            throws
        {
            executable = try ProcessRunner.locate("kubectl", package: "kubernetes-client")
            self.directory = directory
            let cluster =
                certificateAuthority.map { "    certificate-authority: \($0)\n" } ?? ""
            kubeconfig = try directory.write(
                "kubeconfig",
                """
                apiVersion: v1
                kind: Config
                clusters:
                - name: sim
                  cluster:
                    server: \(server)
                \(cluster)contexts:
                - name: sim
                  context:
                    cluster: sim
                    user: sim-user
                    namespace: demo
                current-context: sim
                users:
                - name: sim-user
                  user:
                \(user)
                """
            )
        }

        /// Runs kubectl with this kubeconfig and a private discovery cache.
        func run(_ arguments: [String]) throws -> ProcessOutput {
            try ProcessRunner.run(
                executable,
                ["--kubeconfig", kubeconfig, "--cache-dir", directory.path + "/cache", "--request-timeout", "10s"]
                    + arguments,
                timeout: .seconds(30)
            )
        }

        func background(_ arguments: [String], log: String) throws -> BackgroundProcess {
            try BackgroundProcess(
                executable,
                ["--kubeconfig", kubeconfig, "--cache-dir", directory.path + "/cache"] + arguments,
                logPath: directory.path + "/" + log
            )
        }
    }

    @Test func kubectlGetCreateDeleteAndWatchOverHTTP() async throws {
        // Authentication off: kubectl 1.32 does not send a bearer token over plain http (tokens are checked over
        // TLS below).
        let sim = try await KubeAPISimulator.start()
        defer { Task { try? await sim.stop() } }
        let directory = try TemporaryDirectory(prefix: "apisim-kubectl")
        defer { directory.remove() }
        let kubectl = try Kubectl(server: sim.baseURL, user: "    username: nobody", directory: directory)
        try sim.create(Fixtures.service("svc-a"))
        try sim.create(Fixtures.service("svc-b", namespace: "other"))

        let all = try kubectl.run(["get", "services", "-A"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("svc-a") && all.stdout.contains("svc-b"), "\(all.stdout)")
        #expect(all.stdout.contains("other"))

        let manifest = try directory.write(
            "svc-k.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata:
              name: svc-k
              labels: {app: svc-k}
            spec:
              selector: {app: svc-k}
              ports:
              - {name: http, port: 80, targetPort: 8080}
            """
        )
        // No /openapi documents are served: kubectl's client-side validation needs them.
        let create = try kubectl.run(["create", "--validate=false", "-f", manifest])
        #expect(create.status == 0, "\(create.stderr)")
        #expect(create.stdout.contains("service/svc-k created"), "\(create.stdout)")
        #expect(sim.get(.services, namespace: "demo", name: "svc-k") != nil)

        let get = try kubectl.run(["get", "svc", "svc-k", "-o", "json"])
        #expect(get.status == 0, "\(get.stderr)")
        let object = Fixtures.json(get.stdout)
        #expect(Fixtures.name(object) == "svc-k")
        #expect(((object["spec"] as? [String: Any])?["clusterIP"] as? String)?.hasPrefix("10.96.") == true)
        #expect(Fixtures.resourceVersion(object) == sim.currentResourceVersion)

        let delete = try kubectl.run(["delete", "svc", "svc-k"])
        #expect(delete.status == 0, "\(delete.stderr)")
        #expect(delete.stdout.contains("service \"svc-k\" deleted"), "\(delete.stdout)")
        #expect(sim.get(.services, namespace: "demo", name: "svc-k") == nil)

        // `get --watch` sees a create made through the Swift API.
        let watcher = try kubectl.background(["get", "services", "--watch"], log: "watch.log")
        defer { watcher.stop(grace: .seconds(2)) }
        #expect(await Fixtures.eventually(timeout: .seconds(20)) { sim.watchCount(.services) >= 1 }, "\(watcher.log)")
        try sim.create(Fixtures.service("svc-w"))
        #expect(await Fixtures.eventually(timeout: .seconds(10)) { watcher.log.contains("svc-w") }, "\(watcher.log)")
        #expect(watcher.log.contains("svc-a"))
        #expect(!watcher.log.contains("svc-b"))  // another namespace
    }

    @Test func kubectlListsServiceDNSRecordsAcrossNamespaces() async throws {
        let sim = try await KubeAPISimulator.start()
        defer { Task { try? await sim.stop() } }
        let directory = try TemporaryDirectory(prefix: "apisim-kubectl-sdr")
        defer { directory.remove() }
        let kubectl = try Kubectl(server: sim.baseURL, user: "    username: nobody", directory: directory)
        for (name, namespace) in [("web", "demo"), ("db", "other")] {
            try sim.create(
                Fixtures.text([
                    "apiVersion": "multicluster.mcdns.io/v1alpha1", "kind": "ServiceDNSRecord",
                    "metadata": ["name": name, "namespace": namespace], "spec": ["recordTTL": 30],
                ])
            )
        }
        let all = try kubectl.run(["get", "servicednsrecords", "-A"])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdout.contains("web") && all.stdout.contains("db") && all.stdout.contains("other"), "\(all.stdout)")
        // The short name comes from discovery.
        let short = try kubectl.run(["get", "sdr", "web", "-o", "jsonpath={.spec.recordTTL}"])
        #expect(short.status == 0, "\(short.stderr)")
        #expect(short.stdout == "30")
    }

    @Test func kubectlOverTLSWithAClientCertificate() async throws {
        let directory = try TemporaryDirectory(prefix: "apisim-tls")
        defer { directory.remove() }
        let openssl = try ProcessRunner.locate("openssl", package: "openssl")
        func ssl(_ arguments: [String]) throws {
            let output = try ProcessRunner.run(openssl, arguments, timeout: .seconds(20), currentDirectory: directory.path)
            try #require(output.status == 0, "openssl \(arguments.joined(separator: " ")): \(output.stderr)")
        }
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try ssl(["req", "-x509"] + key + ["-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=sim-ca"])
        _ = try directory.write("server.ext", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
        _ = try directory.write("client.ext", "extendedKeyUsage=clientAuth\n")
        for (name, subject) in [("server", "/CN=127.0.0.1"), ("client", "/CN=alice/O=devs")] {
            try ssl(["req"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject])
            try ssl([
                "x509", "-req", "-in", "\(name).csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "\(name).crt", "-days", "1", "-extfile", "\(name).ext",
            ])
        }
        let path = directory.path
        let sim = try await KubeAPISimulator.start(
            SimulatorConfiguration(
                tokens: Fixtures.tokens, allowedUsers: [.services: ["alice"]],
                tls: .init(certificatePath: "\(path)/server.crt", keyPath: "\(path)/server.key", clientCAPath: "\(path)/ca.crt")
            )
        )
        defer { Task { try? await sim.stop() } }
        #expect(sim.baseURL.hasPrefix("https://127.0.0.1:"))
        try sim.create(Fixtures.service("svc-tls"))

        let withCertificate = try Kubectl(
            server: sim.baseURL,
            user: "    client-certificate: \(path)/client.crt\n    client-key: \(path)/client.key",
            directory: directory, certificateAuthority: "\(path)/ca.crt"
        )
        let get = try withCertificate.run(["get", "svc", "svc-tls", "-o", "json"])
        #expect(get.status == 0, "\(get.stderr)")
        #expect(Fixtures.name(Fixtures.json(get.stdout)) == "svc-tls")
        #expect(sim.requests().contains { $0.user == "alice" && $0.path == "/api/v1/namespaces/demo/services/svc-tls" })

        // The admin token authenticates too, but the services grant is alice's alone: 403 Forbidden.
        let withToken = try Kubectl(
            server: sim.baseURL, user: "    token: admin-token", directory: directory,
            certificateAuthority: "\(path)/ca.crt"
        )
        let denied = try withToken.run(["get", "svc", "svc-tls"])
        #expect(denied.status != 0)
        #expect(denied.stderr.contains("forbidden"), "\(denied.stderr)")
        #expect(sim.requests().contains { $0.user == "admin" && $0.status == 403 })
        // Nodes have no grant list: the token's user may read them.
        let nodes = try withToken.run(["get", "nodes"])
        #expect(nodes.status == 0, "\(nodes.stderr)")
        #expect(nodes.stderr.contains("No resources found"), "\(nodes.stderr)")

        // A token the simulator does not know: 401, which kubectl reports as needing credentials.
        let stranger = try Kubectl(
            server: sim.baseURL, user: "    token: not-a-valid-token", directory: directory,
            certificateAuthority: "\(path)/ca.crt"
        )
        let refused = try stranger.run(["get", "nodes"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("Unauthorized") || refused.stderr.contains("provide credentials"), "\(refused.stderr)")
    }
}
