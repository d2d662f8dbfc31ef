import ClusterController
import ClusterTunnel
import DNSAnswer
import DNSServer
import DNSWire
import KubeClient
import MCDNSModel
public import Logging
import NIOCore
import RecordStore
public import ServiceLifecycle

/// The composition root: the one place that turns a `Configuration` into running services, and the one place that
/// bootstraps logging.
public enum MCDNSDaemon {
    /// Sends every log line to standard error at `level` or above; returns the daemon's own logger.
    /// Call once per process (swift-log allows one bootstrap).
    public static func bootstrapLogging(level: Logger.Level) -> Logger {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "mcdns")
        logger.logLevel = level
        return logger
    }

    /// Loads and compiles every zone, publishes the table into a `RecordStore`, and returns the services that
    /// serve it, in start order (shut down in reverse, on SIGTERM or SIGINT). Throws `StartupError` for any zone
    /// problem, so nothing starts half-configured.
    public static func build(configuration: Configuration, logger: Logger) async throws -> ServiceGroup {
        let loaded = ZoneDirectory.load(configuration.zonesDir)
        guard loaded.errors.isEmpty else { throw StartupError(loaded.errors) }
        if loaded.zones.isEmpty {
            logger.warning("no zone files in \(configuration.zonesDir); every query will be refused")
        }
        for zone in loaded.zones {
            logger.info("loaded zone \(zone.origin) (\(zone.records.count) records) from \(zone.file)")
        }
        // The tunnel listener exists before the controller: `source: { tunnel: {} }` members read through it.
        let tunnelService = try configuration.tunnel.map {
            try TunnelHostService(configuration: configuration, tunnel: $0, logger: logger)
        }
        let store: RecordStore
        var controller: ClusterController<ContinuousClock>? = nil
        if LiveRecords.enabled(configuration) {
            // Members: the static zones plus the live names the controller publishes into the store.
            do throws(CompileError) {
                let live = try LiveTable(zones: loaded.zones, naming: LiveRecords.naming(configuration),
                                         options: ServingOptions(maxUDPPayload: configuration.dns.maxUDPPayload))
                store = try RecordStore(live: live, logger: logger)
            } catch {
                throw StartupError([SourceError(file: configuration.file, line: nil, message: error.description)])
            }
            do throws(ControllerError) {
                var tunnelConnector: (@Sendable (ClusterID) -> any KubeConnector)? = nil
                if let server = tunnelService?.server {
                    tunnelConnector = { cluster in TunnelKubeConnector(server: server, cluster: cluster.rawValue) }
                }
                controller = try ClusterController(configuration: LiveRecords.controllerConfiguration(configuration),
                                                   sink: store, logger: logger, tunnelConnector: tunnelConnector)
            } catch {
                throw StartupError([SourceError(file: configuration.file, line: nil, message: "clusters: \(error)")])
            }
            logger.info("watching \(configuration.clusters.count) member cluster(s)")
        } else {
            let table = try StaticAnswers.compile(zones: loaded.zones, configuration: configuration)
            store = RecordStore(initial: table, logger: logger)
        }

        let sockets =
            configuration.dns.udpThreadsPerAddress == 0 ? System.coreCount : configuration.dns.udpThreadsPerAddress
        let dnsConfiguration: DNSServerConfiguration
        do {
            dnsConfiguration = try DNSServerConfiguration(
                listen: configuration.listen.dns.map(\.description),
                udpThreadsPerAddress: sockets,
                tcpIdleTimeout: configuration.dns.tcpIdleTimeout
            )
        } catch {
            throw StartupError([SourceError(file: configuration.file, line: nil, message: "listen.dns: \(error)")])
        }
        let dns = DNSService(configuration: dnsConfiguration, store: store, logger: logger)
        var services: [any Service] = [dns, DNSListening(service: dns, socketsPerAddress: sockets, logger: logger)]
        if let tunnelService { services.append(tunnelService) }
        if let controller { services.append(controller) }
        return ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
    }
}
