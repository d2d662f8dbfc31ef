import DNSServer
import Logging
import ServiceLifecycle

/// Logs one line when every DNS listener is bound (`listening on udp 127.0.0.1:5300 (2 sockets), tcp
/// 127.0.0.1:5300`), the line operators and tests wait for, then lives until shutdown. If binding fails, it fails
/// with the same error, so the group stops.
struct DNSListening: Service {
    let service: DNSService
    let socketsPerAddress: Int
    let logger: Logger

    func run() async throws {
        let addresses = try await service.ready().map(\.description)
        let udp = addresses.map { "\($0) (\(socketsPerAddress) socket\(socketsPerAddress == 1 ? "" : "s"))" }
        logger.notice("listening on udp \(udp.joined(separator: ", ")), tcp \(addresses.joined(separator: ", "))")
        try await gracefulShutdown()
    }
}
