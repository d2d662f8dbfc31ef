import ClusterController
import DNSAnswer
import Foundation
import Hummingbird
import Logging
import MCDNSModel
import NIOCore
import RecordStore
import ServiceLifecycle

/// The admin HTTP API (Hummingbird): `/healthz`, `/readyz`, `/metrics`, `/v1/records`,
/// `/v1/records/{namespace}/{name}`, `/v1/clusters`, `/v1/explain?name=&type=&cluster=`, and
/// `POST /v1/clusters/{name}/drain?reason=` and `POST /v1/clusters/{name}/undrain` (`mcdns drain`, `undrain`).
///
/// JSON bodies are the `AdminViews` types. With a token every route but the probes requires it.
final class AdminServer: Service {
    let address: Configuration.ListenAddress
    let snapshot: AdminSnapshot
    /// Where drains go (nil: no members, so drain and undrain answer 409).
    let drains: MemberSupervisor?
    let metrics: MetricsExporter
    let token: [UInt8]?
    let limits: Configuration.Admin
    let logger: Logger

    init(
        address: Configuration.ListenAddress,
        snapshot: AdminSnapshot,
        drains: MemberSupervisor? = nil,
        metrics: MetricsExporter,
        token: [UInt8]?,
        limits: Configuration.Admin,
        logger: Logger
    ) {
        self.limits = limits
        self.address = address
        self.snapshot = snapshot
        self.drains = drains
        self.metrics = metrics
        self.token = token
        self.logger = logger
    }

    func run() async throws {
        let router = Router()
        if let token { router.add(middleware: AdminAuthentication(token: token)) }
        let snapshot = self.snapshot
        let metrics = self.metrics
        router.get("/healthz") { _, _ in
            Self.json(AdminViews.Health(status: "ok", reason: "serving", serial: snapshot.store.current().serial))
        }
        router.get("/readyz") { _, _ in
            let store = snapshot.store
            if store.isReady {
                let reason =
                    store.liveState()?.restoredFromState == true && store.liveState()?.warmStart == true
                    ? "serving the saved snapshot while members resync" : "serving"
                return Self.json(AdminViews.Health(status: "ready", reason: reason, serial: store.current().serial))
            }
            return Self.json(
                AdminViews.Health(
                    status: "not ready",
                    reason: "waiting for every member to sync once",
                    serial: store.current().serial
                ),
                status: .serviceUnavailable
            )
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.render()))
            )
        }
        router.get("/v1/records") { request, _ in
            let namespace = request.uri.queryParameters.get("namespace")
            return Self.json(snapshot.records(namespace: namespace?.isEmpty == true ? nil : namespace))
        }
        router.get("/v1/records/:namespace/:name") { _, context in
            let namespace = try context.parameters.require("namespace")
            let name = try context.parameters.require("name")
            let found = snapshot.records(namespace: namespace, name: name)
            guard !found.records.isEmpty else {
                return Self.json(
                    AdminViews.Failure(
                        error: "no record for service \(namespace)/\(name): "
                            + "list them with GET /v1/records (mcdns records)"
                    ),
                    status: .notFound
                )
            }
            return Self.json(found)
        }
        router.get("/v1/clusters") { _, _ in Self.json(snapshot.clusters()) }
        let drains = self.drains
        let auditLogger = self.logger
        router.post("/v1/clusters/:name/drain") { request, context in
            let name = try context.parameters.require("name")
            let reason = request.uri.queryParameters.get("reason").flatMap { $0.isEmpty ? nil : $0 }
            return Self.drainResponse(drains, name, logger: auditLogger) {
                (registry: DrainRegistry, cluster: ClusterID) throws(DrainRegistry.Failure) -> AdminViews.Drain in
                let drain = try registry.drain(cluster, reason: reason)
                return AdminViews.Drain(cluster: name, drained: true, drainedBy: drain.origin.rawValue,
                                        reason: drain.reason,
                                        message: "\(name) \(drain.description): its targets leave every answer "
                                            + "(unless every healthy cluster of a service is drained); its watches go on")
            }
        }
        router.post("/v1/clusters/:name/undrain") { _, context in
            let name = try context.parameters.require("name")
            return Self.drainResponse(drains, name, logger: auditLogger) {
                (registry: DrainRegistry, cluster: ClusterID) throws(DrainRegistry.Failure) -> AdminViews.Drain in
                let was = try registry.undrain(cluster)
                return AdminViews.Drain(cluster: name, drained: false, drainedBy: nil, reason: nil,
                                        message: was ? "\(name) undrained: its healthy targets answer again"
                                            : "\(name) was not drained")
            }
        }
        router.get("/v1/explain") { request, _ in
            let query = request.uri.queryParameters
            do throws(AdminSnapshot.ExplainFailure) {
                return Self.json(
                    try snapshot.explain(
                        name: query.get("name"),
                        type: query.get("type"),
                        cluster: query.get("cluster")
                    )
                )
            } catch {
                switch error {
                case .badRequest(let message): return Self.json(AdminViews.Failure(error: message), status: .badRequest)
                case .notLive:
                    return Self.json(
                        AdminViews.Failure(
                            error: "explain needs members: this daemon serves static "
                                + "zones only (no clusters configured); use mcdns query instead"
                        ),
                        status: .conflict
                    )
                }
            }
        }
        let logger = self.logger
        let address = self.address
        let connections = AdminConnections(limit: limits.maxConnections)
        let requestTimeout = TimeAmount(limits.requestTimeout)
        let app = Application(
            router: router,
            server: .http1(
                configuration: .init(
                    additionalChannelHandlers: [
                        AdminConnectionGuard(connections: connections, requestTimeout: requestTimeout)
                    ],
                    idleTimeout: TimeAmount(limits.idleTimeout)
                )
            ),
            configuration: .init(address: .hostname(address.host, port: address.port), serverName: "mcdns"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? address.port
                logger.info("admin API listening", metadata: ["admin.address": "\(address.host):\(port)"])
            },
            logger: logger
        )
        try await app.run()
        logger.info("admin API stopped")
    }

    /// Runs a drain or undrain on the registry, hands the result to the controller, and words the outcome.
    static func drainResponse(
        _ drains: MemberSupervisor?,
        _ name: String,
        logger: Logger,
        _ change: (DrainRegistry, ClusterID) throws(DrainRegistry.Failure) -> AdminViews.Drain
    ) -> Response {
        guard let drains else {
            return json(AdminViews.Failure(error: "this daemon has no member clusters to drain"), status: .conflict)
        }
        do throws(DrainRegistry.Failure) {
            let result = try change(drains.drains, ClusterID(name))
            drains.applyDrains()
            logger.notice("\(result.message)", metadata: ["cluster.id": "\(name)"])
            return json(result)
        } catch {
            switch error {
            case .unknownCluster(let message): return json(AdminViews.Failure(error: message), status: .notFound)
            case .drainedByConfiguration(let message):
                return json(AdminViews.Failure(error: message), status: .conflict)
            }
        }
    }

    static func json<T: Encodable>(
        _ value: T,
        status: HTTPResponse.Status = .ok,
        headers: HTTPFields = [:]
    ) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = (try? encoder.encode(value)) ?? Data("{\"error\":\"cannot encode the response\"}".utf8)
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
