import ClusterTunnel
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOSSL
import Testing

/// Agent → tunnel → host over real sockets, TLS and HTTP/2, against a real HTTP server as the member's API server.
@Suite(.serialized) struct TunnelEndToEndTests {
    @Test func listAndStreamedWatchThroughTheTunnel() async throws {
        let fixture = try await TunnelFixture()
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration())
        defer { agentTask.cancel() }
        let session = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }
        #expect(session.cluster == "east-1")
        #expect(session.authentication == "token")

        let list = try await session.request(
            method: "GET",
            path: "/api/v1/services?limit=500",
            headers: [("accept", "application/json")]
        )
        #expect(list.status == 200)
        #expect(list.header("content-type") == "application/json")
        #expect(try await collect(list.body) == LoopbackAPIServer.serviceList)

        // A watch is one long body: each line must arrive while the body is still open.
        let watch = try await session.request(
            method: "GET",
            path: "/api/v1/services?watch=1&resourceVersion=10",
            headers: []
        )
        #expect(watch.status == 200)
        let received = NIOLockedValueBox<[String]>([])
        let reader = Task {
            for try await chunk in watch.body { received.withLockedValue { $0.append(String(buffer: chunk)) } }
        }
        #expect(await eventually { fixture.upstream.watcherCount == 1 })
        for index in 1...3 {
            fixture.upstream.emit(#"{"type":"ADDED","object":{"n":\#(index)}}"#)
            // Line `index` arrives before line `index + 1` is even written upstream: streamed, not buffered.
            #expect(await eventually { received.withLockedValue { $0.joined().contains(#""n":\#(index)"#) } })
        }
        // Cancelling the reader resets the stream; the agent then cancels its upstream watch.
        reader.cancel()
        #expect(await eventually { fixture.upstream.watcherCount == 0 })
        #expect(await eventually { session.openStreams == 0 })
        #expect(fixture.upstream.requests.contains("/api/v1/services?watch=1&resourceVersion=10"))

        let status = fixture.server.status().first { $0.cluster == "east-1" }
        #expect(status?.connected == true)
        #expect(status?.remoteAddress?.hasPrefix("127.0.0.1:") == true)
        #expect(!fixture.logs.all.contains { $0.contains(TunnelFixture.token) })
        agentTask.cancel()
        await fixture.shutdown()
    }

    @Test func aLargeBodyArrivesWholeAndAStalledWatchDoesNotDelayAnotherStream() async throws {
        let fixture = try await TunnelFixture()
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration())
        defer { agentTask.cancel() }
        let session = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }

        // A watch whose upstream never sends a byte, left open on the same tunnel.
        let stalled = try await session.request(method: "GET", path: "/api/v1/services?watch=1", headers: [])
        #expect(stalled.status == 200)
        // Meanwhile other streams complete: a list, and a body far larger than one HTTP/2 flow-control window.
        let list = try await within(.seconds(5)) {
            try await collect(try await session.request(method: "GET", path: "/api/v1/nodes", headers: []).body)
        }
        #expect(list == LoopbackAPIServer.serviceList)
        let big = try await within(.seconds(20)) {
            var count = 0
            let response = try await session.request(method: "GET", path: "/api/v1/nodes?big=1", headers: [])
            #expect(response.status == 200)
            for try await chunk in response.body {
                count += chunk.readableBytes
            }
            return count
        }
        #expect(big == LoopbackAPIServer.bigSize)
        #expect(await eventually { session.openStreams == 1 })
        _ = stalled
        agentTask.cancel()
        await fixture.shutdown()
    }

    @Test func clientCertificateNamesTheCluster() async throws {
        let fixture = try await TunnelFixture(clientCertificates: true)
        let (cert, key) = fixture.certificates.clientCert("east-1")
        var configuration = try fixture.agentConfiguration()
        configuration.credential = .clientCertificate(
            chain: try NIOSSLCertificate.fromPEMFile(cert),
            key: try NIOSSLPrivateKey(file: key, format: .pem)
        )
        let (_, agentTask) = fixture.startAgent(configuration)
        defer { agentTask.cancel() }
        let session = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }
        #expect(session.authentication == "client certificate")
        let list = try await session.request(method: "GET", path: "/api/v1/services", headers: [])
        #expect(list.status == 200)
        agentTask.cancel()
        await fixture.shutdown()
    }
}
