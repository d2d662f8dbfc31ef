public import Logging
public import NIOCore
import NIOPosix
public import RecordStore
public import ServiceLifecycle

/// The DNS listeners of the daemon: UDP and TCP on the same addresses and ports.
///
/// A configured port 0 is resolved by the UDP side first; TCP then binds the port UDP got, so clients such
/// as `dig -p PORT` and `dig +tcp -p PORT` reach the same server. When either side stops, the other is
/// stopped too and `run()` returns (or throws the failure).
public final class DNSService: Service {
    private let configuration: DNSServerConfiguration
    private let store: RecordStore
    private let logger: Logger
    private let group: any EventLoopGroup
    private let readiness = ReadinessSignal<[ListenAddress]>()

    public init(
        configuration: DNSServerConfiguration,
        store: RecordStore,
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil
    ) {
        self.configuration = configuration
        self.store = store
        self.logger = logger
        self.group = eventLoopGroup ?? MultiThreadedEventLoopGroup.singleton
    }

    /// The addresses with their real ports, once both UDP and TCP are bound.
    public var boundAddresses: [ListenAddress]? { readiness.value }

    /// Waits until UDP and TCP are bound on every address and returns the addresses; throws if binding failed.
    public func ready() async throws -> [ListenAddress] {
        try await readiness.wait()
    }

    public func run() async throws {
        let udp = UDPBatchServer(configuration: configuration, store: store, logger: logger)
        let readiness = self.readiness
        do {
            try await withThrowingDiscardingTaskGroup { tasks in
                tasks.addTask { try await udp.run() }
                let bound: [ListenAddress]
                do {
                    bound = try await udp.ready()
                } catch {
                    readiness.fail(error)
                    throw error
                }
                let tcp = TCPServer(
                    addresses: bound,
                    idleTimeout: configuration.tcpIdleTimeout,
                    maxConnections: configuration.maxTCPConnections,
                    store: store,
                    logger: logger,
                    eventLoopGroup: group
                )
                tasks.addTask { try await tcp.run() }
                do {
                    _ = try await tcp.ready()
                } catch {
                    readiness.fail(error)
                    throw error
                }
                readiness.succeed(bound)
            }
        } catch {
            readiness.fail(error)
            throw error
        }
    }
}
