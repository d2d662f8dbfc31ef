import ClusterController
import DNSAnswer
import Foundation
import Hummingbird
import Logging
import NIOCore
import RecordStore
import ServiceLifecycle

/// The admin HTTP API (Hummingbird): `/healthz`, `/readyz`, `/metrics`, `/v1/records`,
/// `/v1/records/{namespace}/{name}`, `/v1/clusters`, `/v1/explain?name=&type=&cluster=`.
///
/// JSON bodies are the `AdminViews` types. With a token every route but the probes requires it.
final class AdminServer: Service {
    let address: Configuration.ListenAddress
    let snapshot: AdminSnapshot
    let metrics: MetricsExporter
    let token: [UInt8]?
    let limits: Configuration.Admin
    let logger: Logger

    init(
        address: Configuration.ListenAddress,
        snapshot: AdminSnapshot,
        metrics: MetricsExporter,
        token: [UInt8]?,
        limits: Configuration.Admin,
        logger: Logger
    ) {
        self.limits = limits
        self.address = address
        self.snapshot = snapshot
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
