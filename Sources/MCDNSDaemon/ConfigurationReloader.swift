import ClusterController
import DNSAnswer
import DNSServer
import KubeClient
import MCDNSModel
import Logging
import RecordStore
import ServiceLifecycle
import Synchronization
import UnixSignals

/// SIGHUP: reads the configuration file and the zone files again and applies what can change while serving.
///
/// Applied live: zone files, `transfer` (when it was set at start), TTLs, the naming rules (federation, clusterset, locality policy, requesters) and the
/// members (clusters, export rules, staleGracePeriod). Taking effect only after a restart (logged and ignored):
/// `listen`, `stateDir`, `dns` and `admin`. Adding the first member or removing the last (switching between
/// static-only and live serving) also needs a restart. A configuration or zone file with any error is refused
/// with one log line per problem and the previous configuration keeps serving, unchanged.
final class ConfigurationReloader: Service, Sendable {
    private let current: Mutex<Configuration>
    private let store: RecordStore
    private let members: MemberSupervisor?
    /// How tunnel members are reached (the listener does not change on reload: `tunnel` needs a restart).
    private let tunnelConnector: (@Sendable (ClusterID) -> any KubeConnector)?
    private let logger: Logger
    /// Where a replacement controller publishes (the store, and with `host:` the status writer too).
    private let controllerSink: (any ServiceRecordSink)?
    private let hostRecords: HostRecordSource?
    /// Zone transfers, when `transfer:` was set at start (adding the section needs a restart).
    private let transfer: ZoneTransfer?

    init(configuration: Configuration, store: RecordStore, members: MemberSupervisor?,
         tunnelConnector: (@Sendable (ClusterID) -> any KubeConnector)? = nil,
         controllerSink: (any ServiceRecordSink)? = nil, hostRecords: HostRecordSource? = nil,
         transfer: ZoneTransfer? = nil, logger: Logger) {
        self.transfer = transfer
        self.controllerSink = controllerSink
        self.hostRecords = hostRecords
        self.current = Mutex(configuration)
        self.store = store
        self.members = members
        self.tunnelConnector = tunnelConnector
        self.logger = logger
    }

    func run() async throws {
        let signals = await UnixSignalsSequence(trapping: .sighup)
        await cancelWhenGracefulShutdown {
            for await _ in signals { _ = self.reload() }
        }
    }

    /// Returns whether the new configuration was applied.
    func reload() -> Bool {
        let old = current.withLock { $0 }
        let file = old.file
        logger.notice("SIGHUP: reloading the configuration", metadata: ["config.file": "\(file)"])
        let new: Configuration
        do {
            new = try Configuration.load(file: file)
        } catch {
            return refuse(error.errors.map(\.description))
        }
        let loaded = ZoneDirectory.load(new.zonesDir)
        guard loaded.errors.isEmpty else { return refuse(loaded.errors.map(\.description)) }
        guard LiveRecords.enabled(new) == LiveRecords.enabled(old) else {
            return refuse(["\(file): going from no members to some (or back) needs a restart"])
        }
        let transferProblems = new.transferZoneProblems(served: loaded.zones.map(\.origin))
        guard transferProblems.isEmpty else { return refuse(transferProblems.map(\.description)) }
        let transferConfiguration: ZoneTransferConfiguration?
        do throws(StartupError) {
            transferConfiguration = try new.zoneTransferConfiguration()
        } catch {
            return refuse(error.errors.map(\.description))
        }
        var ignored: [String] = []
        if transfer == nil && new.transfer != nil { ignored.append("transfer") }
        if new.listen != old.listen { ignored.append("listen") }
        if new.stateDir != old.stateDir { ignored.append("stateDir") }
        if new.dns != old.dns { ignored.append("dns") }
        if new.admin != old.admin { ignored.append("admin") }
        if new.tunnel != old.tunnel { ignored.append("tunnel") }
        if new.host != old.host { ignored.append("host") }

        if LiveRecords.enabled(new) {
            let controllerConfiguration = LiveRecords.controllerConfiguration(new)
            var replacement: ClusterController<ContinuousClock>? = nil
            // Built before anything changes, so a member list the controller rejects leaves everything as it was.
            if controllerConfiguration != LiveRecords.controllerConfiguration(old), members != nil {
                do throws(ControllerError) {
                    replacement = try ClusterController(
                        configuration: controllerConfiguration,
                        sink: controllerSink ?? store,
                        logger: logger,
                        tunnelConnector: tunnelConnector,
                        hostRecords: hostRecords
                    )
                } catch {
                    return refuse(["\(file): clusters: \(error)"])
                }
            }
            let naming = LiveRecords.naming(new)
            let options = ServingOptions(maxUDPPayload: old.dns.maxUDPPayload, rotate: old.dns.rotate)
            if let failure = store.reconfigure({ () throws(CompileError) -> LiveTable in
                try LiveTable(zones: loaded.zones, naming: naming, options: options)
            }) {
                return refuse(["\(file): \(failure)"])
            }
            members?.drains.reconfigure(new)
            if let replacement { members?.replace(with: replacement) } else { members?.applyDrains() }
        } else {
            do throws(StartupError) {
                var sameTuning = new
                sameTuning.dns = old.dns
                store.publish(try StaticAnswers.compile(zones: loaded.zones, configuration: sameTuning))
                if transfer != nil { store.setStaticZones(TransferZones.contents(loaded.zones)) }
            } catch {
                return refuse(error.errors.map(\.description))
            }
        }
        // Without the section now, nobody may transfer and nobody is notified until it comes back.
        transfer?.update(transferConfiguration ?? ZoneTransferConfiguration())
        if transfer != nil { store.setJournalLength(new.transfer?.journalLength ?? 0) }
        var applied = new
        // What needs a restart stays as the running daemon has it, so a later reload compares against reality.
        applied.listen = old.listen
        applied.stateDir = old.stateDir
        applied.dns = old.dns
        applied.admin = old.admin
        current.withLock { $0 = applied }
        if !ignored.isEmpty {
            logger.warning(
                "reload: these sections changed but take effect only after a restart",
                metadata: ["ignored": "\(ignored.joined(separator: ","))"]
            )
        }
        logger.notice(
            "configuration reloaded",
            metadata: [
                "zones": "\(loaded.zones.count)", "members": "\(new.clusters.count)",
                "serial": "\(store.current().serial)",
            ]
        )
        return true
    }

    private func refuse(_ problems: [String]) -> Bool {
        for problem in problems {
            logger.error(
                "reload refused; the previous configuration keeps serving",
                metadata: ["problem": "\(problem)"]
            )
        }
        return false
    }
}
