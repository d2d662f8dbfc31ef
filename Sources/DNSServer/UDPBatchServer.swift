import CMCDNSSys
public import DNSAnswer
public import Logging
public import RecordStore
public import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// Serves DNS over UDP from the current table of a `RecordStore`, with one `SO_REUSEPORT` socket and one
/// dedicated thread per core and listen address (DESIGN §8).
///
/// `run()` binds, reports the bound addresses through `ready()`, and serves until the service group
/// shuts down gracefully or the task is cancelled; then it stops every thread, joins it and closes the sockets.
public final class UDPBatchServer: Service {
    private let addresses: [ListenAddress]
    private let threadsPerAddress: Int
    private let store: RecordStore
    private let logger: Logger
    private let readiness = ReadinessSignal<[ListenAddress]>()
    private let statistics: QueryStatistics
    private let rateLimit: RateLimitConfiguration
    private let cookies: CookieKeyring?
    /// Signs the responses to TSIG-signed queries (a secondary's SOA check); nil: they go out unsigned.
    private let transfer: ZoneTransfer?

    public init(addresses: [ListenAddress], threadsPerAddress: Int, store: RecordStore, logger: Logger,
                statistics: QueryStatistics = QueryStatistics(), rateLimit: RateLimitConfiguration = .off,
                cookies: CookieKeyring? = nil, transfer: ZoneTransfer? = nil) {
        self.transfer = transfer
        precondition(threadsPerAddress >= 1, "threadsPerAddress must be at least 1")
        self.rateLimit = rateLimit
        self.cookies = cookies
        self.addresses = addresses
        self.threadsPerAddress = threadsPerAddress
        self.store = store
        self.logger = logger
        self.statistics = statistics
    }

    public convenience init(configuration: DNSServerConfiguration, store: RecordStore, logger: Logger,
                            statistics: QueryStatistics = QueryStatistics(), transfer: ZoneTransfer? = nil) {
        self.init(
            addresses: configuration.listen,
            threadsPerAddress: configuration.udpThreadsPerAddress,
            store: store,
            logger: logger,
            statistics: statistics,
            rateLimit: configuration.rateLimit,
            cookies: configuration.cookies,
            transfer: transfer
        )
    }

    /// The addresses with their real ports (a configured port 0 replaced), once `run()` has bound them.
    public var boundAddresses: [ListenAddress]? { readiness.value }

    /// Waits until `run()` has bound every socket and returns the bound addresses; throws if binding failed.
    public func ready() async throws -> [ListenAddress] {
        try await readiness.wait()
    }

    public func run() async throws {
        let workers: [UDPWorker]
        do {
            workers = try bindAll()
        } catch {
            readiness.fail(error)
            throw error
        }
        let bound = stride(from: 0, to: workers.count, by: threadsPerAddress).map { workers[$0].address }

        let exits = WorkerExitTracker(running: workers.count)
        var started = 0
        do {
            for worker in workers {
                try worker.start(store: store, exits: exits, counters: statistics.makeWorkerCounters(),
                                 rateLimit: rateLimit, cookies: cookies, transfer: transfer)
                started += 1
            }
        } catch {
            for _ in started..<workers.count { exits.exited(failure: nil) }
            await stopAndJoin(workers, exits: exits)
            readiness.fail(error)
            throw error
        }
        for address in bound {
            logger.info(
                "DNS UDP listening",
                metadata: ["dns.address": "\(address)", "dns.threads": "\(threadsPerAddress)"]
            )
        }
        readiness.succeed(bound)
        if rateLimit.isEnabled {
            logger.info("DNS rate limiting on", metadata: [
                "dns.rateLimit.responsesPerSecond": "\(rateLimit.responsesPerSecond)",
                "dns.rateLimit.slip": "\(rateLimit.slip)",
                "dns.rateLimit.prefixes": "/\(rateLimit.ipv4PrefixLength) /\(rateLimit.ipv6PrefixLength)",
            ])
        }
        // At most one log line per interval says what was limited (never one per response).
        let reporter = rateLimit.isEnabled ? Task { [statistics, logger] in
            await Self.reportRateLimiting(statistics: statistics, logger: logger)
        } : nil
        defer { reporter?.cancel() }

        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await exits.waitUntilAllExitedOrOneFailed()
            } onCancel: {
                for worker in workers { worker.stop() }
            }
        } onGracefulShutdown: {
            for worker in workers { worker.stop() }
        }
        await stopAndJoin(workers, exits: exits)
        logger.info("DNS UDP stopped", metadata: ["dns.addresses": "\(bound.map(\.description))"])

        let failures = exits.failures
        if !failures.isEmpty {
            for failure in failures { logger.error("DNS UDP thread failed", metadata: ["error": "\(failure)"]) }
            throw DNSServerError(failures.joined(separator: "; "))
        }
    }

    /// How often the rate limiter's work is logged, when it did any.
    static let rateLimitLogInterval: Duration = .seconds(10)

    private static func reportRateLimiting(statistics: QueryStatistics, logger: Logger) async {
        var reported: [QueryStatistics.Totals.RateLimitKey: UInt64] = [:]
        while (try? await Task.sleep(for: rateLimitLogInterval)) != nil {
            let now = statistics.totals().rateLimited
            var lines: [String] = []
            for (key, value) in now.sorted(by: { ($0.key.responseClass, $0.key.action) < ($1.key.responseClass, $1.key.action) })
            where value > reported[key, default: 0] {
                lines.append("\(key.responseClass) \(key.action) \(value - reported[key, default: 0])")
            }
            reported = now
            guard !lines.isEmpty else { continue }
            logger.notice("DNS rate limiting limited responses", metadata: [
                "dns.limited": "\(lines.joined(separator: ", "))",
                "dns.interval": "\(rateLimitLogInterval)",
            ])
        }
    }

    private func stopAndJoin(_ workers: [UDPWorker], exits: WorkerExitTracker) async {
        for worker in workers { worker.stop() }
        await exits.waitUntilAllExited()
        for worker in workers { worker.joinAndClose() }
    }

    /// Binds `threadsPerAddress` sockets per address. A port-0 address binds its first socket, reads the
    /// port the kernel chose and binds the others to that port, so they form one `SO_REUSEPORT` group.
    private func bindAll() throws(DNSServerError) -> [UDPWorker] {
        var workers: [UDPWorker] = []
        do throws(DNSServerError) {
            for address in addresses {
                var port = address.port
                for _ in 0..<threadsPerAddress {
                    let fd = mcdns_udp_socket(address.host, Int32(port), UDPWorker.receiveTimeoutMilliseconds)
                    guard fd >= 0 else {
                        let reason = String(cString: strerror(errno))
                        throw DNSServerError("cannot listen on UDP \(address.with(port: port)): \(reason)")
                    }
                    if port == 0 {
                        port = Int(mcdns_socket_port(fd))
                        guard port > 0 else {
                            let reason = String(cString: strerror(errno))
                            _ = close(fd)
                            throw DNSServerError("cannot read the port of UDP \(address): \(reason)")
                        }
                    }
                    workers.append(UDPWorker(fd: fd, address: address.with(port: port), index: workers.count))
                }
            }
        } catch {
            for worker in workers { worker.joinAndClose() }
            throw error
        }
        return workers
    }
}
