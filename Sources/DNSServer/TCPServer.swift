public import Logging
public import NIOCore
import NIOExtras
import NIOPosix
public import RecordStore
public import ServiceLifecycle
import Synchronization

/// Serves DNS over TCP (RFC 7766): 2-byte length framing, several pipelined queries per connection answered
/// in order, within the `TCPLimits` (message and idle deadlines, connection caps in total and per source address
/// with eviction of the longest idle, bounded pipelining).
///
/// `run()` binds, reports the bound addresses through `ready()`, and serves until the service group shuts
/// down gracefully or the task is cancelled. Shutting down stops accepting, lets every connection deliver
/// the answers to what it has read, closes it, and returns once all connections are closed.
public final class TCPServer: Service {
    private let addresses: [ListenAddress]
    private let limits: TCPLimits
    private let store: RecordStore
    private let logger: Logger
    private let group: any EventLoopGroup
    private let readiness = ReadinessSignal<[ListenAddress]>()
    private let statistics: QueryStatistics
    private let transfer: ZoneTransfer?

    public init(
        addresses: [ListenAddress],
        limits: TCPLimits = .defaults,
        store: RecordStore,
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        statistics: QueryStatistics = QueryStatistics(),
        transfer: ZoneTransfer? = nil
    ) {
        self.statistics = statistics
        self.transfer = transfer
        self.addresses = addresses
        self.limits = limits
        self.store = store
        self.logger = logger
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
    }

    public convenience init(
        configuration: DNSServerConfiguration,
        store: RecordStore,
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.init(
            addresses: configuration.listen,
            limits: configuration.tcp,
            store: store,
            logger: logger,
            eventLoopGroup: eventLoopGroup
        )
    }

    /// The addresses with their real ports (a configured port 0 replaced), once `run()` has bound them.
    public var boundAddresses: [ListenAddress]? { readiness.value }

    /// Waits until `run()` has bound every address and returns the bound addresses; throws if binding failed.
    public func ready() async throws -> [ListenAddress] {
        try await readiness.wait()
    }

    public func run() async throws {
        let scratch = TCPScratchBuffers()
        let connections = TCPConnectionRegistry(limit: limits.maxConnections, perSourceLimit: limits.maxConnectionsPerSource)
        var listeners: [(channel: any Channel, quiesce: ServerQuiescingHelper)] = []
        var bound: [ListenAddress] = []
        do {
            for address in addresses {
                let quiesce = ServerQuiescingHelper(group: group)
                let channel = try await bind(address, quiesce: quiesce, scratch: scratch, connections: connections)
                listeners.append((channel, quiesce))
                bound.append(address.with(port: channel.localAddress?.port ?? address.port))
            }
        } catch {
            for listener in listeners { try? await listener.channel.close() }
            let failure = DNSServerError("cannot listen on TCP \(addresses[listeners.count]): \(error)")
            readiness.fail(failure)
            throw failure
        }
        for address in bound {
            logger.info(
                "DNS TCP listening",
                metadata: [
                    "dns.address": "\(address)", "dns.maxConnections": "\(limits.maxConnections)",
                    "dns.maxConnectionsPerSource": "\(limits.maxConnectionsPerSource)",
                ]
            )
        }
        readiness.succeed(bound)

        // Every path to the end (graceful shutdown, cancellation, a listener closing by itself) starts the
        // same quiescing, once; `finished` completes when every listener and connection is closed.
        let listening = listeners
        let finished = group.next().makePromise(of: Void.self)
        let started = Atomic<Bool>(false)
        let unexpected = Atomic<Bool>(false)
        let quiesceAll: @Sendable () -> Void = {
            guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
            else { return }
            let eventLoop = finished.futureResult.eventLoop
            let done = listening.map { listener in
                let promise = eventLoop.makePromise(of: Void.self)
                listener.quiesce.initiateShutdown(promise: promise)
                return promise.futureResult
            }
            EventLoopFuture.andAllComplete(done, on: eventLoop).cascade(to: finished)
        }
        for listener in listening {
            listener.channel.closeFuture.whenComplete { _ in
                if !started.load(ordering: .acquiring) { unexpected.store(true, ordering: .releasing) }
                quiesceAll()
            }
        }
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                try? await finished.futureResult.get()
            } onCancel: {
                quiesceAll()
            }
        } onGracefulShutdown: {
            quiesceAll()
        }
        logger.info("DNS TCP stopped", metadata: ["dns.addresses": "\(bound.map(\.description))"])
        if unexpected.load(ordering: .acquiring) {
            throw DNSServerError("a DNS TCP listener on \(bound.map(\.description)) closed unexpectedly")
        }
    }

    private func bind(
        _ address: ListenAddress,
        quiesce: ServerQuiescingHelper,
        scratch: TCPScratchBuffers,
        connections: TCPConnectionRegistry
    ) async throws -> any Channel {
        let socketAddress = address.socketAddress
        let store = self.store
        let limits = self.limits
        let logger = self.logger
        let counters = statistics.tcp
        let transfer = self.transfer
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(quiesce.makeServerChannelHandler(channel: channel))
                }
            }
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                let registration: TCPConnectionRegistry.Entry
                switch connections.admit(channel, now: channel.eventLoop.now) {
                case .refusedPerSource:
                    // Failing the initializer makes NIO close the new connection at once.
                    logger.debug(
                        "DNS TCP connection refused: per-source cap",
                        metadata: ["dns.client": "\(channel.remoteAddress.map(String.init(describing:)) ?? "?")"]
                    )
                    return channel.eventLoop.makeFailedFuture(
                        DNSServerError("more than \(connections.perSourceLimit) DNS TCP connections from one address")
                    )
                case .admitted(let entry, let evicted):
                    if evicted {
                        logger.debug("DNS TCP connection cap reached: closed the longest idle connection")
                    }
                    registration = entry
                }
                channel.closeFuture.whenComplete { _ in connections.release(registration) }
                return channel.eventLoop.makeCompletedFuture {
                    try DNSTCPHandler.addHandlers(
                        to: channel.pipeline.syncOperations,
                        eventLoop: channel.eventLoop,
                        store: store,
                        scratch: scratch,
                        limits: limits,
                        registration: registration,
                        counters: counters,
                        transfer: transfer
                    )
                }
            }
            .bind(to: socketAddress)
            .get()
    }
}
