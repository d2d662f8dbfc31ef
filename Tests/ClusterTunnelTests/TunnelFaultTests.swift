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

    @Test func twoAgentsForOneClusterNewestWinsAndTheOldOneDrains() async throws {
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
        // The old session takes no new request but its open watch keeps flowing until it ends.
        #expect(first.state == .draining)
        await #expect(throws: TunnelError.sessionClosed(cluster: "east-1")) {
            _ = try await first.request(method: "GET", path: "/api/v1/services", headers: [])
        }
        fixture.upstream.emit("still-draining")
        #expect(await eventually { received.withLockedValue { $0.contains("still-draining") } })
        // Its last stream ends: the old session closes.
        reader.cancel()
        try await within(.seconds(5)) { await first.closed() }
        #expect(await fixture.agentLogs.waitFor("the host replaced this tunnel with a newer connection"))
        #expect(try await second.request(method: "GET", path: "/api/v1/services", headers: []).status == 200)
        firstTask.cancel()
        secondTask.cancel()
        await fixture.shutdown()
    }
}
