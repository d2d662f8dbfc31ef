import ClusterTunnel
import KubeClient
public import Logging

/// `mcdns agent`: the member's end of the reverse tunnel, reading its own API server (in-cluster credentials, or a
/// kubeconfig for tests and out-of-cluster runs) and serving it, through the allow-list, to the host.
public enum MemberAgent {
    public struct Options: Sendable {
        public var host: String
        public var cluster: String
        public var tokenFile: String
        public var caFile: String
        public var kubeconfig: String?
        public var context: String?

        public init(
            host: String,
            cluster: String,
            tokenFile: String,
            caFile: String,
            kubeconfig: String?,
            context: String?
        ) {
            self.host = host
            self.cluster = cluster
            self.tokenFile = tokenFile
            self.caFile = caFile
            self.kubeconfig = kubeconfig
            self.context = context
        }
    }

    /// Checks the options and credentials, then dials and serves until the task is cancelled. Throws (with a
    /// message naming the file or flag) only for what retrying cannot fix.
    public static func run(_ options: Options, logger: Logger) async throws {
        let configuration = try TunnelAgentConfiguration(
            url: options.host,
            cluster: options.cluster,
            tokenFile: options.tokenFile,
            caFile: options.caFile
        )
        let client: KubeClientConfiguration
        if let kubeconfig = options.kubeconfig {
            client = try KubeConfig.load(path: kubeconfig).resolve(context: options.context)
        } else {
            client = try KubeClientConfiguration.inCluster()
        }
        let connector = try HTTPKubeConnector(configuration: client, logger: logger)
        let agent = TunnelAgent(
            configuration: configuration,
            upstream: KubeTunnelUpstream(connector: connector),
            logger: logger
        )
        logger.info("mcdns agent for cluster \(options.cluster) dialling \(options.host); API server \(client.origin)")
        await agent.run()
        await connector.shutdown()
    }
}
