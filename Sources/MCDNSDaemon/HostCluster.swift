public import ClusterController
import DNSWire
import KubeClient
import Logging
import MCDNSModel
import ServiceLifecycle

/// The `host:` block at work: the host cluster's ServiceDNSRecords (watched by every replica, whose specs feed
/// the merge), the leader election on a Lease in `host.namespace`, and the status writer that only the leader
/// runs writes from. Absent `host:`, none of this exists and nothing is written anywhere.
struct HostCluster: Sendable {
    let records: HostRecordSource
    let elector: LeaderElector
    let writer: StatusWriter
    let connector: HTTPKubeConnector

    init(configuration: Configuration.Host, file: String, logger: Logger) throws(StartupError) {
        let client: KubeClientConfiguration
        do throws(KubeConfigError) {
            switch configuration.credentials {
            case .kubeconfig(let path, let context):
                client = try KubeConfig.load(path: path).resolve(context: context)
            case .inCluster:
                client = try KubeClientConfiguration.inCluster()
            }
        } catch {
            throw StartupError([SourceError(file: file, line: nil, message: "host: \(error)")])
        }
        var hostLogger = logger
        hostLogger[metadataKey: "cluster.id"] = "host"
        let connector: HTTPKubeConnector
        do {
            connector = try HTTPKubeConnector(configuration: client, logger: hostLogger)
        } catch {
            throw StartupError([SourceError(file: file, line: nil, message: "host: \(error)")])
        }
        let records = HostRecordSource(connector: connector, logger: hostLogger)
        let elector: LeaderElector
        do throws(ControllerError) {
            elector = try LeaderElector(
                configuration: LeaderElectionConfiguration(
                    namespace: configuration.namespace,
                    leaseDuration: configuration.leaseDuration,
                    renewDeadline: configuration.renewDeadline,
                    retryPeriod: configuration.retryPeriod
                ),
                connector: connector,
                logger: hostLogger,
                clock: .continuous
            )
        } catch {
            throw StartupError([SourceError(file: file, line: nil, message: "host: \(error)")])
        }
        self.connector = connector
        self.records = records
        self.elector = elector
        writer = StatusWriter(
            configuration: StatusWriter.Configuration(resyncPeriod: configuration.statusResync),
            elector: elector,
            hostRecords: records,
            connector: connector,
            logger: hostLogger,
            clock: .continuous
        )
    }

    /// In start order; they stop in reverse, so the elector releases the Lease after the writer stopped, and the
    /// HTTP client closes last.
    var services: [any Service] { [HostConnectorCloser(connector: connector), records, elector, writer] }

    /// What `/metrics` and `/healthz` show of it.
    var status: HostStatus {
        let statistics = writer.statistics
        return HostStatus(
            identity: elector.configuration.identity,
            leader: elector.isLeader(),
            recordsSynced: records.isSynced,
            statusWrites: statistics.statusWrites,
            conflicts: statistics.conflicts,
            created: statistics.created,
            deleted: statistics.deleted,
            problems: writer.problems
        )
    }
}

/// The host cluster as the admin API reports it.
public struct HostStatus: Sendable, Codable, Equatable {
    public var identity: String
    public var leader: Bool
    public var recordsSynced: Bool
    public var statusWrites: Int
    public var conflicts: Int
    public var created: Int
    public var deleted: Int
    /// Why records could not be written at the writer's last complete round (namespace missing, CRD missing,
    /// RBAC denied), each with what to do; empty when every record was written.
    public var problems: [HostStatusProblemReport] = []
}

/// Hands each batch of the controller to several sinks in order (the record store, then the status writer).
struct RecordSinkFanOut: ServiceRecordSink {
    let sinks: [any ServiceRecordSink]

    func apply(_ changes: RecordChanges) async {
        for sink in sinks { await sink.apply(changes) }
    }
}
