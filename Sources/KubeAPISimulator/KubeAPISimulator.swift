import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// A Kubernetes API server on 127.0.0.1 for tests and demos, faithful to the recordings in
/// shared/kube-transcripts: discovery, paginated lists, watches with bookmarks, compaction and 410s, token and
/// client-certificate auth, and injectable faults. Objects go in and come out as JSON text.
public final class KubeAPISimulator: Sendable {
    public let configuration: SimulatorConfiguration
    /// The bound TCP port.
    public let port: Int
    /// "http://127.0.0.1:PORT", or "https://…" with TLS.
    public let baseURL: String

    private let core: SimServerCore
    /// The listening socket; nil while paused or stopped.
    private let serverChannel: Mutex<(any Channel)?>
    private let sslContext: NIOSSLContext?

    private init(
        configuration: SimulatorConfiguration,
        port: Int,
        core: SimServerCore,
        serverChannel: any Channel,
        sslContext: NIOSSLContext?
    ) {
        self.configuration = configuration
        self.port = port
        self.baseURL = "\(configuration.tls == nil ? "http" : "https")://127.0.0.1:\(port)"
        self.core = core
        self.serverChannel = Mutex(serverChannel)
        self.sslContext = sslContext
    }

    /// Binds 127.0.0.1:`configuration.port` (0 = any free port) and starts serving.
    public static func start(_ configuration: SimulatorConfiguration = SimulatorConfiguration()) async throws
        -> KubeAPISimulator
    {
        let core = SimServerCore(
            configuration: configuration, store: SimStore(initialRevision: configuration.initialResourceVersion)
        )
        let sslContext: NIOSSLContext? = try configuration.tls.map { tls in
            let chain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { NIOSSLCertificateSource.certificate($0) }
            var tlsConfiguration = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(try NIOSSLPrivateKey(file: tls.keyPath, format: .pem))
            )
            if let clientCA = tls.clientCAPath {
                // Optional: a request without a certificate may still authenticate with a token.
                tlsConfiguration.certificateVerification = .optionalVerification
                tlsConfiguration.trustRoots = .file(clientCA)
            }
            tlsConfiguration.applicationProtocols = ["http/1.1"]
            return try NIOSSLContext(configuration: tlsConfiguration)
        }
        let bootstrap = makeBootstrap(core: core, sslContext: sslContext)
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: configuration.port).get()
        guard let port = channel.localAddress?.port else {
            try? await channel.close()
            throw SimulatorStartError(message: "the listening socket has no port")
        }
        core.serverAddress.withLock { $0 = "127.0.0.1:\(port)" }
        return KubeAPISimulator(
            configuration: configuration, port: port, core: core, serverChannel: channel, sslContext: sslContext
        )
    }

    private static func makeBootstrap(core: SimServerCore, sslContext: NIOSSLContext?) -> ServerBootstrap {
        ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: sslContext))
                    }
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(SimHTTPHandler(core: core))
                }
            }
    }

    /// Stops listening and closes every connection (open watches end without the chunked terminator, as when an
    /// apiserver goes away).
    public func stop() async throws {
        try await pause()
    }

    /// An outage: stops listening and drops every connection, keeping the objects, the revision and the event
    /// log (the Swift API keeps working meanwhile). Connecting is refused until `resume()`.
    public func pause() async throws {
        let channel = serverChannel.withLock { channel in
            defer { channel = nil }
            return channel
        }
        try? await channel?.close()
        for connection in core.openConnections() {
            try? await connection.close()
        }
        core.store.forgetWatches()
    }

    /// Listens again on the same port after `pause()`, with the same state.
    public func resume() async throws {
        guard serverChannel.withLock({ $0 == nil }) else { return }
        let bootstrap = Self.makeBootstrap(core: core, sslContext: sslContext)
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: port).get()
        serverChannel.withLock { $0 = channel }
    }

    /// The objects and revision now, to `restart(restoring:)` later as an etcd backup would be restored.
    public func snapshot() -> SimSnapshot {
        core.store.snapshot()
    }

    /// A restart onto an etcd restored from `snapshot` (without `etcdutl --bump-revision`): every connection
    /// drops, and the server comes back on the same port with the snapshot's objects and its lower revision, so
    /// versions clients saw after the snapshot are ahead of it. `kubeSystemUID` nil keeps the cluster's identity
    /// (a restore); another uid makes it a different cluster that happens to answer on this address.
    public func restart(restoring snapshot: SimSnapshot, kubeSystemUID: String? = nil) async throws {
        try await pause()
        core.store.restore(snapshot)
        if let kubeSystemUID { core.kubeSystemUID.withLock { $0 = kubeSystemUID } }
        try await resume()
    }

    /// The uid of the `kube-system` Namespace now.
    public var kubeSystemUID: String { core.kubeSystemUID.withLock { $0 } }

    /// Whether the simulator is listening (not paused or stopped).
    public var isListening: Bool { serverChannel.withLock { $0 != nil } }

    // MARK: objects

    /// Creates an object given as JSON (its apiVersion/kind pick the resource; a namespaced object without a
    /// namespace goes to "default"). Returns the stored object, with uid, resourceVersion, creationTimestamp
    /// (and generation where the type has one) assigned. Throws `SimAPIError` 409 AlreadyExists, 422 Invalid, 400.
    @discardableResult
    public func create(_ json: String) throws -> String {
        let (resource, body) = try Self.parseObject(json)
        return try core.store.create(resource, namespace: nil, body: body, manager: "kube-api-simulator").text
    }

    /// Replaces an object (PUT semantics): a non-empty `metadata.resourceVersion` that is not the stored one
    /// throws 409 Conflict; a missing object 404 NotFound.
    @discardableResult
    public func update(_ json: String) throws -> String {
        let (resource, body) = try Self.parseObject(json)
        return try core.store.update(resource, namespace: nil, name: nil, body: body, manager: "kube-api-simulator").text
    }

    /// Replaces an object's status, as a PUT to its `/status` subresource does: everything but `status` in `json`
    /// is ignored; a stale `metadata.resourceVersion` throws 409 Conflict.
    @discardableResult
    public func updateStatus(_ json: String) throws -> String {
        let (resource, body) = try Self.parseObject(json)
        guard resource.hasStatusSubresource else {
            throw SimStatus.badRequest("\(resource.plural) have no status subresource")
        }
        return try core.store.update(
            resource, namespace: nil, name: nil, body: body, manager: "kube-api-simulator", part: .status
        ).text
    }

    /// Deletes an object (404 NotFound when absent). `namespace` nil means "default" for namespaced resources.
    public func delete(_ resource: SimResource, namespace: String?, name: String) throws {
        try core.store.delete(resource, namespace: namespace, name: name)
    }

    /// The stored object, or nil.
    public func get(_ resource: SimResource, namespace: String?, name: String) -> String? {
        let key = resource.namespaced ? (namespace ?? "default") : nil
        return (try? core.store.get(resource, namespace: key, name: name))?.text
    }

    /// The current objects, sorted by namespace and name, as JSON; `namespace` nil means all.
    public func objects(_ resource: SimResource, namespace: String? = nil) -> [String] {
        core.store.objects(resource, namespace: namespace).map(\.text)
    }

    /// Serves a resource from now on that `uninstalledResources` held back (a CRD being applied); its objects, if
    /// any were created through the Swift API meanwhile, are there.
    public func install(_ resource: SimResource) {
        _ = core.uninstalled.withLock { $0.remove(resource) }
    }

    /// etcd's revision: the resourceVersion of the latest write, across all resources.
    public var currentResourceVersion: String { String(core.store.currentRevision) }

    /// Compacts: every resourceVersion older than the current one becomes too old. Lists at such a version
    /// and continue tokens minted before answer HTTP 410; watches from one get 200 and an ERROR event with 410.
    public func compact() {
        core.store.compact()
    }

    // MARK: faults and watches

    /// Makes the next `times` requests that match misbehave as `fault` says. Faults are consumed in the order
    /// injected; a request takes at most one.
    public func inject(_ fault: SimFault, matching: SimRequestMatch = .any, times: Int = 1) {
        core.inject(fault, matching: matching, times: times)
    }

    /// Injected fault uses not yet consumed.
    public var pendingFaults: Int { core.pendingFaultCount }

    /// Ends every open watch stream normally, as when its timeoutSeconds runs out.
    public func closeWatches() {
        core.store.endAllWatches()
    }

    /// Writes `text` verbatim, as one HTTP chunk, into every open watch of `resource`, in order with its events:
    /// for framing tests (an event split across chunks, several events in one chunk, invalid JSON, unknown event
    /// types). Returns the number of watches written to.
    @discardableResult
    public func emitRawWatchData(_ text: String, to resource: SimResource) -> Int {
        core.store.emitRaw(text, to: resource)
    }

    /// Watch streams open now.
    public var openWatchCount: Int { core.store.openWatchCount }

    // MARK: request log

    public func requests() -> [SimRequestRecord] { core.requests() }

    public func resetRequests() { core.resetRequests() }

    /// List requests (GET of a collection without watch) received for `resource`, faulted ones included.
    public func listCount(_ resource: SimResource) -> Int {
        core.requests().filter { $0.isList && $0.resource == resource }.count
    }

    /// Watch requests received for `resource`, faulted ones included.
    public func watchCount(_ resource: SimResource) -> Int {
        core.requests().filter { $0.isWatch && $0.resource == resource }.count
    }

    private static func parseObject(_ json: String) throws(SimAPIError) -> (SimResource, SimJSON) {
        let body: SimJSON
        do {
            body = try SimJSON.parse(json)
        } catch {
            throw SimStatus.badRequest("the object is not JSON: \(error)")
        }
        let apiVersion = body["apiVersion"]?.stringValue ?? ""
        let kind = body["kind"]?.stringValue ?? ""
        guard let resource = SimResource.forObject(apiVersion: apiVersion, kind: kind) else {
            throw SimStatus.badRequest("no simulated resource for apiVersion \"\(apiVersion)\", kind \"\(kind)\"")
        }
        return (resource, body)
    }
}

/// The simulator could not start.
public struct SimulatorStartError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
