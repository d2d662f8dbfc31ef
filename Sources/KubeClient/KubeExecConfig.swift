/// `users[].user.exec`: a client-go credential plugin (client.authentication.k8s.io v1 or v1beta1).
public struct KubeExecConfig: Sendable, Equatable {
    public var apiVersion: String
    public var command: String
    public var args: [String]
    public var env: [String: String]
    /// `provideClusterInfo`: pass the cluster (server, CA) in `KUBERNETES_EXEC_INFO`.
    public var provideClusterInfo: Bool

    public static let supportedVersions = [
        "client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1",
    ]

    public init(apiVersion: String, command: String, args: [String] = [], env: [String: String] = [:],
                provideClusterInfo: Bool = false) {
        self.apiVersion = apiVersion
        self.command = command
        self.args = args
        self.env = env
        self.provideClusterInfo = provideClusterInfo
    }
}
