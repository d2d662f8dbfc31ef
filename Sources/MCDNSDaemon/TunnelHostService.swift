public import ClusterTunnel
public import Logging
import DNSWire
public import ServiceLifecycle

/// The host's tunnel listener as a `Service` of the daemon's `ServiceGroup`, built from `tunnel:`.
public struct TunnelHostService: Service {
    public let server: TunnelServer

    /// Loads the TLS files and the per-cluster token digests of `tunnel:`; throws `StartupError` with the file.
    public init(configuration: Configuration, tunnel: Configuration.Tunnel, logger: Logger) throws {
        do {
            let serverConfiguration = try TunnelServerConfiguration(
                host: tunnel.listen.host,
                port: tunnel.listen.port,
                certificateFile: tunnel.tls.certificate,
                keyFile: tunnel.tls.key,
                clientCAFile: tunnel.tls.clientCA,
                clusters: Dictionary(
                    uniqueKeysWithValues: tunnel.clusters.map {
                        (
                            $0.key.description,
                            TunnelServerConfiguration.ClusterCredential(
                                tokenSHA256: $0.value.tokenSHA256, previousTokenSHA256: $0.value.previousTokenSHA256
                            )
                        )
                    }
                )
            )
            server = try TunnelServer(configuration: serverConfiguration, logger: logger)
        } catch {
            throw StartupError([SourceError(file: configuration.file, line: nil, message: "tunnel: \(error)")])
        }
    }

    public func run() async throws {
        try await withGracefulShutdownHandler {
            try await server.run()
        } onGracefulShutdown: {
            Task { await server.shutdown() }
        }
    }
}
