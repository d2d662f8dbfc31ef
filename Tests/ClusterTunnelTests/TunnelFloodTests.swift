import ClusterTunnel
import DNSTestSupport
import Foundation
import Logging
import NIOCore
import NIOPosix
import Testing

/// Issue 23: unauthenticated connections are capped (`maxPendingConnections`), and a flood of refused ones is
/// counted by reason (`refusalCounts()`, the daemon's `mcdns_tunnel_refusals_total`) but logged a few lines at a
/// time, not one line each.
@Suite(.serialized) struct TunnelFloodTests {
    @Test func pendingConnectionsAreCappedAndAFloodIsCountedButLoggedSparingly() async throws {
        let certificates = try TestCertificates()
        defer { certificates.directory.remove() }
        let logs = LogRecorder()
        var limits = TunnelLimits()
        limits.maxPendingConnections = 2
        let server = try TunnelServer(
            configuration: TunnelServerConfiguration(
                host: "127.0.0.1", port: 0, certificateFile: certificates.hostCert, keyFile: certificates.hostKey,
                clusters: ["east-1": .init(tokenSHA256: TunnelFixture.sha256Hex("token"))], limits: limits
            ),
            logger: logs.logger("host")
        )
        try await server.start()
        defer { Task { await server.shutdown() } }
        let port = server.localPort!
        func connect() async throws -> any Channel {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connect(host: "127.0.0.1", port: port).get()
        }
        // Two connections that never start TLS hold both places.
        let holders = [try await connect(), try await connect()]
        #expect(await eventually { server.pendingConnections == 2 })
        // Thirty more are closed at accept: counted, and logged at most ten times in the window.
        for _ in 0..<30 {
            let channel = try await connect()
            try await within(.seconds(5)) { try? await channel.closeFuture.get() }
        }
        #expect(await eventually { server.refusalCounts()["tooManyPending"] == 30 }, "\(server.refusalCounts())")
        let lines = logs.all.filter { $0.contains("connections are already authenticating") }
        // Ten per 10 s window (twenty should the thirty connections take more than one window on a loaded machine).
        #expect(lines.count >= 10 && lines.count <= 20, "\(lines.count) lines")
        // The places free up when the holders go; a new connection is let in again.
        for holder in holders { try await holder.close() }
        #expect(await eventually { server.pendingConnections == 0 })
        let admitted = try await connect()
        #expect(await eventually { server.pendingConnections == 1 })
        try await admitted.close()
        #expect(server.refusalCounts()["tooManyPending"] == 30)
    }
}
