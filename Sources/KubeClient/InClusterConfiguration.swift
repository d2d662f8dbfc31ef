public import Foundation

extension KubeClientConfiguration {
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    /// The API server of the cluster mcdns runs in, as client-go's `rest.InClusterConfig` finds it:
    /// `KUBERNETES_SERVICE_HOST`/`KUBERNETES_SERVICE_PORT`, the service account's rotating token file and its CA.
    /// `environment` and `serviceAccountDirectory` are parameters so tests need no pod.
    public static func inCluster(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        serviceAccountDirectory: String = Self.serviceAccountDirectory
    ) throws(KubeConfigError) -> KubeClientConfiguration {
        func fail(_ field: String, _ message: String) -> KubeConfigError {
            KubeConfigError(file: "in-cluster", field: field, message: message)
        }
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty else {
            throw fail("KUBERNETES_SERVICE_HOST", "is not set; inCluster works only inside a pod (use a kubeconfig source elsewhere)")
        }
        guard let port = environment["KUBERNETES_SERVICE_PORT"], let number = Int(port), (1...65535).contains(number) else {
            throw fail("KUBERNETES_SERVICE_PORT", "is not set or not a port number")
        }
        let tokenPath = serviceAccountDirectory + "/token"
        guard FileManager.default.isReadableFile(atPath: tokenPath) else {
            throw fail(tokenPath, "service-account token is missing or unreadable (automountServiceAccountToken: false?)")
        }
        let caPath = serviceAccountDirectory + "/ca.crt"
        guard let ca = FileManager.default.contents(atPath: caPath) else {
            throw fail(caPath, "service-account CA is missing or unreadable")
        }
        // An IPv6 service host needs brackets in a URL; net.JoinHostPort does the same in client-go.
        let authority = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]:\(number)" : "\(host):\(number)"
        return KubeClientConfiguration(
            server: "https://\(authority)",
            certificateAuthorityPEM: [UInt8](ca),
            bearerToken: .file(tokenPath),
            origin: "in-cluster"
        )
    }
}
