import ClusterController
import ClusterTunnel
public import DNSAnswer
import Foundation
import Metrics
import MCDNSModel
public import Prometheus
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

    /// The Prometheus registry `/metrics` renders. swift-metrics is bootstrapped onto it by `bootstrapMetrics()`,
    /// so counters libraries create through swift-metrics (KubeClient's `mcdns_watch_restarts_total` and
    /// `mcdns_relists_total`, tunnel sessions) are exported with the daemon's own.
    public static let metricsRegistry = PrometheusCollectorRegistry()

    /// Points swift-metrics at `metricsRegistry`. Call once per process (swift-metrics allows one bootstrap).
    public static func bootstrapMetrics() {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: metricsRegistry))
    }

    /// Loads and compiles every zone, publishes the table into a `RecordStore` (with the saved state of
    /// `stateDir`, when there is a good one), and returns the services in start order: DNS, the state writer, the
    /// members, the admin API, the SIGHUP reloader. They shut down in reverse on SIGTERM or SIGINT: the reloader
    /// and admin API first, then the members, then the final state write, and the DNS listeners last (TCP
    /// connections deliver the answers to what they have read). Throws `StartupError` for any zone or
    /// configuration problem, so nothing starts half-configured.
    public static func build(configuration: Configuration, logger: Logger) async throws -> ServiceGroup {
        // Before the servers and the controller start their threads (RecordStore.HeapArenas says why).
        switch HeapArenas.limit() {
        case .limited(let arenas): logger.debug("malloc arenas limited to \(arenas)")
        case .leftToEnvironment(let value): logger.debug("malloc arenas as MALLOC_ARENA_MAX=\(value) says")
        case .unavailable: logger.debug("malloc arenas left as they are: no glibc mallopt")
        }
        switch HeapArenas.fixMmapThreshold() {
        case .limited(let bytes): logger.debug("malloc mmap threshold fixed at \(bytes) bytes")
        case .leftToEnvironment(let value): logger.debug("malloc mmap threshold as MALLOC_MMAP_THRESHOLD_=\(value) says")
        case .unavailable: logger.debug("malloc mmap threshold left as it is: no glibc mallopt")
        }
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

        var token: [UInt8]? = nil
        if let tokenFile = configuration.admin.tokenFile {
            do {
                let text = try FileSystem.readText(tokenFile).trimmingCharacters(in: .whitespacesAndNewlines)
                guard !text.isEmpty else {
                    throw StartupError([SourceError(file: tokenFile, line: nil,
                                                    message: "admin.tokenFile is empty: put the bearer token in it")])
                }
                token = Array(text.utf8)
            } catch let error as StartupError {
                throw error
            } catch {
                throw StartupError([SourceError(file: tokenFile, line: nil, message: "cannot read admin.tokenFile: \(error)")])
            }
        } else if !configuration.listen.admin.isLoopback {
            throw StartupError([SourceError(file: configuration.file, line: nil,
                                            message: "listen.admin beyond loopback needs admin.tokenFile")])
        }

        // `source: { tunnel: {} }` members read through the tunnel listener (also for controllers a reload builds).
        var tunnelConnector: (@Sendable (ClusterID) -> any KubeConnector)? = nil
        if let server = tunnelService?.server {
            tunnelConnector = { cluster in TunnelKubeConnector(server: server, cluster: cluster.rawValue) }
        }
        let store: RecordStore
        var supervisor: MemberSupervisor? = nil
        var host: HostCluster? = nil
        if LiveRecords.enabled(configuration) {
            // Members: the static zones plus the live names the controller publishes into the store.
            let stateFile = StateFile(directory: configuration.stateDir)
            var saved: PersistedState? = nil
            do throws(StateFileError) {
                saved = try stateFile.load()
                logger.notice("state loaded: serving its records as stale until the members resync", metadata: [
                    "state.file": "\(stateFile.path)", "serial": "\(saved!.serial)", "records": "\(saved!.records.count)"])
            } catch {
                if case .missing = error {
                    logger.info("no saved state yet; starting cold", metadata: ["state.file": "\(stateFile.path)"])
                } else {
                    // Reported, never fatal: the members fill the records in again.
                    logger.warning("state file ignored; starting cold", metadata: ["error": "\(error)"])
                }
            }
            do throws(CompileError) {
                let live = try LiveTable(zones: loaded.zones, naming: LiveRecords.naming(configuration),
                                         options: ServingOptions(maxUDPPayload: configuration.dns.maxUDPPayload, rotate: configuration.dns.rotate))
                store = try RecordStore(live: live, stateFile: stateFile, restoring: saved,
                                        warmStartGrace: configuration.staleGracePeriod, logger: logger)
            } catch {
                throw StartupError([SourceError(file: configuration.file, line: nil, message: error.description)])
            }
            // `host:`: every replica watches the host's ServiceDNSRecords (user specs feed the merge); the leader
            // also writes their status, so the controller's batches go to the writer as well as the store.
            var sink: any ServiceRecordSink = store
            if let hostConfiguration = configuration.host {
                let built = try HostCluster(configuration: hostConfiguration, file: configuration.file, logger: logger)
                sink = RecordSinkFanOut(sinks: [store, built.writer])
                host = built
                logger.info("host cluster: watching ServiceDNSRecords; leader election on a Lease", metadata: [
                    "lease": "\(hostConfiguration.namespace)/\(built.elector.configuration.leaseName)",
                    "identity": "\(built.elector.configuration.identity)"])
            }
            do throws(ControllerError) {
                let controller = try ClusterController(configuration: LiveRecords.controllerConfiguration(configuration),
                                                       sink: sink, logger: logger, tunnelConnector: tunnelConnector,
                                                       hostRecords: host?.records)
                supervisor = MemberSupervisor(controller: controller, store: store,
                                              drains: DrainRegistry(configuration: configuration), logger: logger)
            } catch {
                throw StartupError([SourceError(file: configuration.file, line: nil, message: "clusters: \(error)")])
            }
            logger.info("watching \(configuration.clusters.count) member cluster(s)")
        } else {
            if configuration.host != nil {
                logger.warning("host: ignored: without clusters there are no merged records to write status for")
            }
            let table = try StaticAnswers.compile(zones: loaded.zones, configuration: configuration)
            store = RecordStore(initial: table, logger: logger)
        }

        let sockets =
            configuration.dns.udpThreadsPerAddress == 0 ? System.coreCount : configuration.dns.udpThreadsPerAddress
        var dnsConfiguration: DNSServerConfiguration
        do {
            dnsConfiguration = try DNSServerConfiguration(
                listen: configuration.listen.dns,
                udpThreadsPerAddress: sockets,
                tcp: try TCPLimits(
                    idleTimeout: configuration.dns.tcpIdleTimeout,
                    messageTimeout: configuration.dns.tcpMessageTimeout,
                    maxConnections: configuration.dns.maxTCPConnections,
                    maxConnectionsPerSource: configuration.dns.maxTCPConnectionsPerSource,
                    maxPipelined: configuration.dns.maxTCPPipelined
                )
            )
        } catch {
            throw StartupError([SourceError(file: configuration.file, line: nil, message: "listen.dns: \(error)")])
        }
        dnsConfiguration.rateLimit = configuration.dns.rateLimit
        dnsConfiguration.cookies = try cookieKeyring(configuration)
        // `transfer:`: AXFR/IXFR over TCP and NOTIFY to the secondaries.
        let transferProblems = configuration.transferZoneProblems(served: loaded.zones.map(\.origin))
        guard transferProblems.isEmpty else { throw StartupError(transferProblems) }
        let transfer = try configuration.zoneTransferConfiguration().map {
            ZoneTransfer(configuration: $0, store: store, logger: logger)
        }
        if transfer != nil, supervisor == nil {
            store.setStaticZones(TransferZones.contents(loaded.zones))
        }
        store.setJournalLength(configuration.transfer?.journalLength ?? 0)
        let dns = DNSService(configuration: dnsConfiguration, store: store, logger: logger, transfer: transfer)
        let notifier = transfer.map { NotifySender(transfer: $0, store: store, logger: logger) }
        let members: @Sendable () -> [MemberStatus] = { [supervisor] in supervisor?.status() ?? [] }
        let tunnelServer = tunnelService?.server
        let tunnels: @Sendable () -> [TunnelConnectionStatus] = { tunnelServer?.status() ?? [] }
        let hostStatus: @Sendable () -> HostStatus? = { [host] in host?.status }
        let admin = AdminServer(
            address: configuration.listen.admin,
            snapshot: AdminSnapshot(store: store, members: members, tunnels: tunnels, host: hostStatus),
            drains: supervisor,
            metrics: MetricsExporter(registry: metricsRegistry, store: store, queries: dns.statistics, members: members,
                                     tunnels: tunnels, tunnelRefusals: { tunnelServer?.refusalCounts() ?? [:] },
                                     host: hostStatus, transfer: transfer, notifier: notifier),
            token: token,
            limits: configuration.admin,
            logger: logger
        )
        var services: [any Service] = [dns, DNSListening(service: dns, socketsPerAddress: sockets, logger: logger)]
        if let notifier { services.append(notifier) }
        if let tunnelService { services.append(tunnelService) }
        if let host { services += host.services }
        if let supervisor {
            services.append(StatePersister(store: store, logger: logger))
            services.append(supervisor)
        }
        services.append(admin)
        services.append(ConfigurationReloader(configuration: configuration, store: store, members: supervisor,
                                              tunnelConnector: tunnelConnector,
                                              controllerSink: host.map { RecordSinkFanOut(sinks: [store, $0.writer]) },
                                              hostRecords: host?.records, transfer: transfer, logger: logger))
        return ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
    }

    /// The cookie secrets `dns.cookies` asks for: the secret file's, or a random master whose derived secrets
    /// rotate every `rotation`; nil when cookies are off.
    public static func cookieKeyring(_ configuration: Configuration) throws(StartupError) -> CookieKeyring? {
        let cookies = configuration.dns.cookies
        guard cookies.enabled else { return nil }
        if let file = cookies.secretFile {
            switch CookieSecretFile.read(file) {
            case .success(let keyring): return keyring
            case .failure(let problem):
                throw StartupError([SourceError(file: configuration.file, line: nil,
                                                message: "dns.cookies.secretFile: \(problem)")])
            }
        }
        return .rotating(master: .random(), periodSeconds: UInt32(cookies.rotation.components.seconds))
    }
}
