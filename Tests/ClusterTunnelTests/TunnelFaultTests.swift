import ClusterTunnel
import DNSTestSupport
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Testing

/// Faults between agent and host, injected through a TCP proxy the test controls.
@Suite(.serialized) struct TunnelFaultTests {
    @Test func cutWithResetReconnectsToANewSession() async throws {
        let fixture = try await TunnelFixture()
        let proxy = try await FaultProxy(targetPort: fixture.port)
        let (agent, agentTask) = fixture.startAgent(try fixture.agentConfiguration(port: proxy.port))
        defer { agentTask.cancel() }
        let first = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }
        let watch = try await first.request(method: "GET", path: "/api/v1/services?watch=1", headers: [])

        proxy.cutWithReset()
        // The open watch fails (the reflector then resumes from its resourceVersion), and a new session arrives.
        await #expect(throws: (any Error).self) { _ = try await within(.seconds(5)) { try await collect(watch.body) } }
        let second = try await within(.seconds(10)) {
            try await fixture.server.nextSession(for: "east-1", after: first)
        }
        #expect(second.id != first.id)
        #expect(await eventually { agent.connectionsEstablished == 2 })
        let list = try await second.request(method: "GET", path: "/api/v1/services", headers: [])
        #expect(try await collect(list.body) == LoopbackAPIServer.serviceList)
        #expect(fixture.server.status().first { $0.cluster == "east-1" }?.sessionsAccepted == 2)
        agentTask.cancel()
        await proxy.shutdown()
        await fixture.shutdown()
    }

    @Test func blackHoledLinkIsDetectedWithinThePingBound() async throws {
        let fixture = try await TunnelFixture()
        let proxy = try await FaultProxy(targetPort: fixture.port)
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration(port: proxy.port))
        defer { agentTask.cancel() }
        let first = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }

        // No FIN, no RST: only the missing PING answers tell. Bound: one ping interval plus the ping timeout
        // (2.5 s here), with slack for a loaded machine.
        proxy.blackHoleOpenConnections()
        let started = ContinuousClock.now
        try await within(.seconds(10)) { await first.closed() }
        let detectedAfter = ContinuousClock.now - started
        #expect(detectedAfter < .seconds(8))
        #expect(await fixture.logs.waitFor("did not answer an HTTP/2 PING"))
        #expect(first.state == .closed)
        // The agent dials again through the proxy (new connections pass) and a new session serves.
        let second = try await within(.seconds(10)) {
            try await fixture.server.nextSession(for: "east-1", after: first)
        }
        #expect(try await second.request(method: "GET", path: "/api/v1/services", headers: []).status == 200)
        agentTask.cancel()
        await proxy.shutdown()
        await fixture.shutdown()
    }

    /// Issue 23: the replaced session stops at once (a session opened with a stolen token stops delivering the
    /// moment the member's agent is back), and the takeover is logged at warning with both addresses and counted.
    @Test func twoAgentsForOneClusterNewestWinsAndTheOldOneStopsAtOnce() async throws {
        let fixture = try await TunnelFixture()
        let (_, firstTask) = fixture.startAgent(try fixture.agentConfiguration())
        defer { firstTask.cancel() }
        let first = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }
        let watch = try await first.request(method: "GET", path: "/api/v1/services?watch=1", headers: [])
        let received = NIOLockedValueBox("")
        let reader = Task {
            for try await chunk in watch.body { received.withLockedValue { $0 += String(buffer: chunk) } }
        }
        #expect(await eventually { fixture.upstream.watcherCount == 1 })

        let (_, secondTask) = fixture.startAgent(try fixture.agentConfiguration())
        defer { secondTask.cancel() }
        let second = try await within(.seconds(10)) {
            try await fixture.server.nextSession(for: "east-1", after: first)
        }
        #expect(second.id != first.id)
        #expect(fixture.server.session(for: "east-1")?.id == second.id)
        // The old session takes no new request, and its open watch ends now (the drain timeout is 60 s by default,
        // so this is not it): nothing more can come through it.
        #expect(first.state != .active)
        await #expect(throws: TunnelError.sessionClosed(cluster: "east-1")) {
            _ = try await first.request(method: "GET", path: "/api/v1/services", headers: [])
        }
        try await within(.seconds(5)) { _ = await reader.result }
        try await within(.seconds(5)) { await first.closed() }
        #expect(
            fixture.logs.contains(
                "tunnel for cluster east-1 taken over: a new connection from \(second.remoteAddress) replaces the one from \(first.remoteAddress)"
            ),
            "\(fixture.logs.all)"
        )
        #expect(fixture.server.status().first { $0.cluster == "east-1" }?.takeovers == 1)
        #expect(await fixture.agentLogs.waitFor("the host replaced this tunnel with a newer connection"))
        #expect(try await second.request(method: "GET", path: "/api/v1/services", headers: []).status == 200)
        firstTask.cancel()
        secondTask.cancel()
        await fixture.shutdown()
    }
}
