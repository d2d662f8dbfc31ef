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
    /// Queries answered, by transport, type and RCODE, and the answer latency: summed when scraped.
    public let statistics = QueryStatistics()
    /// Zone transfers over TCP (`transfer:`), nil when not configured.
    public let transfer: ZoneTransfer?

    public init(
        configuration: DNSServerConfiguration,
        store: RecordStore,
        logger: Logger,
        eventLoopGroup: (any EventLoopGroup)? = nil,
        transfer: ZoneTransfer? = nil
    ) {
        self.transfer = transfer
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

    /// How often a port-0 address is tried again when TCP cannot have the port UDP was given.
    static let portAttempts = 8

    public func run() async throws {
        // The kernel picks a free UDP port, which TCP may still hold (another socket's local port): then the
        // pair is bound again on a new port. A fixed port that TCP cannot have is an error at once.
        let retryable = configuration.listen.contains { $0.port == 0 }
        var attempt = 1
        while true {
            do {
                try await runOnce()
                return
            } catch let failure as TCPBindFailure where retryable && attempt < Self.portAttempts {
                logger.debug("DNS TCP could not bind the port UDP got; binding again", metadata: [
                    "error": "\(failure.error)", "attempt": "\(attempt)",
                ])
                attempt += 1
            } catch let failure as TCPBindFailure {
                readiness.fail(failure.error)
                throw failure.error
            } catch {
                readiness.fail(error)
                throw error
            }
        }
    }

    /// Marks a failure to bind TCP on the ports UDP got, the one failure worth another attempt.
    private struct TCPBindFailure: Error {
        let error: any Error
    }

    private func runOnce() async throws {
        let udp = UDPBatchServer(configuration: configuration, store: store, logger: logger, statistics: statistics,
                                 transfer: transfer)
        let readiness = self.readiness
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask { try await udp.run() }
            // Throwing from here cancels the UDP task, which then closes its sockets and returns.
            let bound = try await udp.ready()
            let tcp = TCPServer(
                addresses: bound,
                limits: configuration.tcp,
                store: store,
                logger: logger,
                eventLoopGroup: group,
                statistics: statistics,
                transfer: transfer
            )
            tasks.addTask {
                do {
                    try await tcp.run()
                } catch {
                    // A bind failure is reported by `ready()` below; do not let it race that report.
                    if tcp.boundAddresses != nil { throw error }
                }
            }
            do {
                _ = try await tcp.ready()
            } catch {
                throw TCPBindFailure(error: error)
            }
            readiness.succeed(bound)
        }
    }
}
