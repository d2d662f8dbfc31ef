import Foundation
import KubeClient
import Testing

@Suite("kubeconfig and in-cluster configuration")
struct KubeConfigTests {
    static let full = """
        apiVersion: v1
        kind: Config
        current-context: east
        clusters:
        - name: east
          cluster:
            server: https://10.0.0.1:6443/
            certificate-authority-data: Q0EtUEVN
            tls-server-name: api.east.example
        - name: west
          cluster:
            server: https://[2001:db8::1]:443
            certificate-authority: certs/west-ca.pem
            insecure-skip-tls-verify: true
        users:
        - name: alice
          user:
            token: s3cret
        - name: robot
          user:
            tokenFile: robot.token
        - name: cert
          user:
            client-certificate-data: Q0VSVA==
            client-key-data: S0VZ
        - name: plugin
          user:
            exec:
              apiVersion: client.authentication.k8s.io/v1
              command: ./bin/get-token
              args: [--cluster, west]
              env: [{name: REGION, value: us-west-2}]
              provideClusterInfo: true
        contexts:
        - name: east
          context: {cluster: east, user: alice}
        - name: west
          context: {cluster: west, user: robot}
        - name: east-cert
          context: {cluster: east, user: cert}
        - name: west-exec
          context: {cluster: west, user: plugin}
        """

    private func directory() throws -> String {
        let path = NSTemporaryDirectory() + "kubeconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path + "/certs", withIntermediateDirectories: true)
        try "WEST-CA".write(toFile: path + "/certs/west-ca.pem", atomically: true, encoding: .utf8)
        try "robot-token\n".write(toFile: path + "/robot.token", atomically: true, encoding: .utf8)
        return path
    }

    @Test func currentContextWithTokenAndInlineCA() throws {
        let config = try KubeConfig.parse(Self.full, file: "/tmp/x/east.kubeconfig")
        let client = try config.resolve(context: nil)
        #expect(client.server == "https://10.0.0.1:6443")
        #expect(client.certificateAuthorityPEM == Array("CA-PEM".utf8))
        #expect(client.tlsServerName == "api.east.example")
        #expect(client.bearerToken == .literal("s3cret"))
        #expect(client.insecureSkipTLSVerify == false)
    }

    @Test func filesResolveAgainstTheKubeconfigDirectory() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = try KubeConfig.parse(Self.full, file: dir + "/member.kubeconfig")
        let west = try config.resolve(context: "west")
        #expect(west.server == "https://[2001:db8::1]:443")
        #expect(west.certificateAuthorityPEM == Array("WEST-CA".utf8))
        #expect(west.insecureSkipTLSVerify)
        #expect(west.bearerToken == .file(dir + "/robot.token"))

        let cert = try config.resolve(context: "east-cert")
        #expect(cert.clientCertificatePEM == Array("CERT".utf8))
        #expect(cert.clientKeyPEM == Array("KEY".utf8))

        let exec = try config.resolve(context: "west-exec")
        #expect(exec.exec == KubeExecConfig(apiVersion: "client.authentication.k8s.io/v1", command: dir + "/./bin/get-token",
                                            args: ["--cluster", "west"], env: ["REGION": "us-west-2"], provideClusterInfo: true))
    }

    @Test func unknownContextListsTheAvailableOnes() throws {
        let config = try KubeConfig.parse(Self.full, file: "east.kubeconfig")
        let error = #expect(throws: KubeConfigError.self) { try config.resolve(context: "prod") }
        #expect(error?.description == "east.kubeconfig: contexts: context \"prod\" not found; available: east, east-cert, west, west-exec — set source.context")
    }

    @Test func authProviderIsRejectedByName() {
        let yaml = """
            users:
            - name: gke
              user:
                auth-provider:
                  name: gcp
                  config: {}
            """
        let error = #expect(throws: KubeConfigError.self) { try KubeConfig.parse(yaml, file: "gke.kubeconfig") }
        #expect(error?.field == "users[\"gke\"].user.auth-provider")
        #expect(error?.description.contains("auth-provider \"gcp\" is not supported") == true)
    }

    @Test(arguments: [
        ("clusters:\n- name: a\n  cluster: {}\n", "clusters[\"a\"].cluster.server", "is required"),
        ("clusters:\n- name: a\n  cluster: {server: https://x, certificate-authority-data: '%%%'}\n",
         "clusters[\"a\"].cluster.certificate-authority-data", "is not valid base64"),
        ("users:\n- name: u\n  user: {exec: {apiVersion: client.authentication.k8s.io/v1alpha1, command: x}}\n",
         "users[\"u\"].user.exec.apiVersion", "is not supported"),
        ("users:\n- name: u\n  user: {username: a, password: b}\n", "users[\"u\"].user.username", "basic authentication"),
        ("clusters: {a: 1}\n", "clusters", "expected a list"),
        ("- just\n- a list\n", "", "expected a YAML mapping"),
        ("clusters:\n- name: a\n  cluster: {server: https://x, insecure-skip-tls-verify: maybe}\n",
         "clusters[\"a\"].cluster.insecure-skip-tls-verify", "expected true or false"),
    ])
    func malformedFieldsAreNamed(yaml: String, field: String, message: String) {
        let error = #expect(throws: KubeConfigError.self) { try KubeConfig.parse(yaml, file: "bad.kubeconfig") }
        #expect(error?.file == "bad.kubeconfig")
        #expect(error?.field == field)
        #expect(error?.message.contains(message) == true, "\(String(describing: error))")
    }

    /// A number written with colons (YAML 1.1's base 60) is text, as in Kubernetes: Yams' base-60 arithmetic
    /// trapped on an overflowing one anywhere in the file, even under a key mcdns does not read.
    @Test func baseSixtyNumbersStayText() throws {
        let yaml = """
            preferences: {colors: 999999999999999999:59}
            clusters:
            - name: a
              cluster: {server: https://x, tls-server-name: 1:30}

            """
        let config = try KubeConfig.parse(yaml, file: "odd.kubeconfig")
        #expect(config.clusters["a"]?.tlsServerName == "1:30")
    }

    @Test func resolveErrorsNameTheField() throws {
        let yaml = """
            clusters:
            - name: a
              cluster: {server: ftp://x}
            - name: b
              cluster: {server: https://b, certificate-authority: /nonexistent/ca.pem}
            - name: a2
              cluster: {server: https://a2}
            users:
            - name: half
              user: {client-certificate-data: Q0VSVA==}
            contexts:
            - {name: bad-url, context: {cluster: a}}
            - {name: no-ca, context: {cluster: b}}
            - {name: no-user, context: {cluster: a2, user: ghost}}
            - {name: half, context: {cluster: a, user: half}}
            """
        let config = try KubeConfig.parse(yaml, file: "m.kubeconfig")
        #expect(throws: KubeConfigError(file: "m.kubeconfig", field: "clusters[\"a\"].cluster.server",
                                        message: "\"ftp://x\" is not an http(s) URL")) { try config.resolve(context: "bad-url") }
        #expect(throws: KubeConfigError(file: "m.kubeconfig", field: "clusters[\"b\"].cluster.certificate-authority",
                                        message: "/nonexistent/ca.pem is missing or unreadable")) { try config.resolve(context: "no-ca") }
        #expect(throws: KubeConfigError(file: "m.kubeconfig", field: "contexts[\"no-user\"].context.user",
                                        message: "user \"ghost\" not found in users")) { try config.resolve(context: "no-user") }
        let noCurrent = #expect(throws: KubeConfigError.self) { try config.resolve(context: nil) }
        #expect(noCurrent?.field == "current-context")
        #expect(throws: KubeConfigError.self) { try KubeConfig.load(path: "/nonexistent/kubeconfig") }
    }

    @Test func inClusterUsesServiceEnvironmentAndServiceAccount() throws {
        let dir = try directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "sa-token".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
        try "SA-CA".write(toFile: dir + "/ca.crt", atomically: true, encoding: .utf8)
        let v4 = try KubeClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"],
            serviceAccountDirectory: dir
        )
        #expect(v4.server == "https://10.96.0.1:443")
        #expect(v4.bearerToken == .file(dir + "/token"))
        #expect(v4.certificateAuthorityPEM == Array("SA-CA".utf8))
        let v6 = try KubeClientConfiguration.inCluster(
            environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "6443"],
            serviceAccountDirectory: dir
        )
        #expect(v6.server == "https://[fd00::1]:6443")
        let missing = #expect(throws: KubeConfigError.self) {
            try KubeClientConfiguration.inCluster(environment: [:], serviceAccountDirectory: dir)
        }
        #expect(missing?.field == "KUBERNETES_SERVICE_HOST")
        let noToken = #expect(throws: KubeConfigError.self) {
            try KubeClientConfiguration.inCluster(
                environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443"],
                serviceAccountDirectory: dir + "/nothing-here"
            )
        }
        #expect(noToken?.field == dir + "/nothing-here/token")
    }
}
