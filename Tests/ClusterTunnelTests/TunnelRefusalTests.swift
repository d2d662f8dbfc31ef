import ClusterTunnel
import DNSTestSupport
import Foundation
import Logging
import NIOCore
import NIOSSL
import Testing

/// Each refusal is explained in a log line, leaves no session behind, and crashes nothing.
@Suite(.serialized) struct TunnelRefusalTests {
    @Test func wrongTokenIsRefusedWith401() async throws {
        let fixture = try await TunnelFixture()
        let wrong = try fixture.certificates.directory.write("wrong-token", "not-the-token\n")
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration(tokenFile: wrong))
        #expect(await fixture.logs.waitFor("tunnel refused (401): bearer token matches no configured cluster"))
        #expect(await fixture.agentLogs.waitFor("the host refused the tunnel with HTTP 401"))
        #expect(fixture.server.session(for: "east-1") == nil)
        #expect(!fixture.logs.all.contains { $0.contains("not-the-token") })
        #expect(!fixture.agentLogs.all.contains { $0.contains("not-the-token") })
        agentTask.cancel()
        await fixture.shutdown()
    }

    /// Issue 23: naming a cluster in the header without its credential changes nothing of that cluster's status
    /// (lastError, the TunnelConnected message): anyone who can reach the port could otherwise write there.
    @Test func aRefusedConnectionLeavesTheNamedClustersStatusAlone() async throws {
        let fixture = try await TunnelFixture()
        let wrong = try fixture.certificates.directory.write("wrong-token", "not-the-token\n")
        let before = fixture.server.status().first { $0.cluster == "east-1" }
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration(tokenFile: wrong))
        #expect(await fixture.logs.waitFor("tunnel refused (401)"))
        agentTask.cancel()
        let after = fixture.server.status().first { $0.cluster == "east-1" }
        #expect(after?.lastError == nil, "\(String(describing: after))")
        #expect(after == before)
        await fixture.shutdown()
    }

    /// Issue 23: the upgrade request head is capped at `maxHeaderListSize` (16 KiB) as documented; NIOHTTP1 alone
    /// took 79 KiB. Sent over real TLS with `openssl s_client`: the status line of the answer tells.
    @Test func anUpgradeRequestOverTheHeaderCapGets431() async throws {
        let fixture = try await TunnelFixture()
        func statusLine(padding: Int) throws -> String {
            let script = "{ printf 'GET /tunnel/v1 HTTP/1.1\\r\\nHost: h\\r\\nX-Pad: '; head -c \(padding) /dev/zero | tr '\\0' a; "
                + "printf '\\r\\n\\r\\n'; } | openssl s_client -quiet -connect 127.0.0.1:\(fixture.port) 2>/dev/null | head -1"
            return try ProcessRunner.run("/bin/sh", ["-c", script], timeout: .seconds(10)).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        // Under the cap: read as a request (no upgrade headers, so 426); over it, and at 79 KiB: 431.
        #expect(try statusLine(padding: 15_000).hasPrefix("HTTP/1.1 426"))
        #expect(try statusLine(padding: 17_000).hasPrefix("HTTP/1.1 431"))
        #expect(try statusLine(padding: 79 * 1024).hasPrefix("HTTP/1.1 431"))
        #expect(await fixture.logs.waitFor("tunnel upgrade request larger than 16384 bytes refused (431)"))
        await fixture.shutdown()
    }

    /// Issue 23: during a token rotation both the new and the previous token of a cluster are accepted (zero
    /// downtime); a token that is neither is still refused.
    @Test func aRotationAcceptsTheNewAndThePreviousToken() async throws {
        let certificates = try TestCertificates()
        defer { certificates.directory.remove() }
        let server = try TunnelServer(
            configuration: TunnelServerConfiguration(
                host: "127.0.0.1", port: 0, certificateFile: certificates.hostCert, keyFile: certificates.hostKey,
                clusters: [
                    "east-1": .init(
                        tokenSHA256: TunnelFixture.sha256Hex("new-token"),
                        previousTokenSHA256: TunnelFixture.sha256Hex("old-token")
                    )
                ]
            ),
            logger: Logger(label: "host")
        )
        try await server.start()
        defer { Task { await server.shutdown() } }
        func status(_ token: String) throws -> String {
            let script = "printf 'GET /tunnel/v1 HTTP/1.1\\r\\nHost: h\\r\\nAuthorization: Bearer \(token)\\r\\n"
                + "Connection: Upgrade\\r\\nUpgrade: websocket\\r\\nSec-WebSocket-Version: 13\\r\\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n\\r\\n' | timeout 3 openssl s_client -quiet "
                + "-connect 127.0.0.1:\(server.localPort!) 2>/dev/null | head -1"
            return try ProcessRunner.run("/bin/sh", ["-c", script], timeout: .seconds(10)).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try status("new-token").hasPrefix("HTTP/1.1 101"))
        #expect(try status("old-token").hasPrefix("HTTP/1.1 101"))
        #expect(try status("other-token").hasPrefix("HTTP/1.1 401"))
    }

    /// Found by TunnelFuzz: an upgrade request without `Connection: upgrade` (RFC 6455 §4.2.1) was upgraded, and
    /// the frames after it were read as another HTTP request. It is refused with 400 before the credential is
    /// looked at, and counted.
    @Test func anUpgradeRequestWithoutConnectionUpgradeGets400() async throws {
        let certificates = try TestCertificates()
        defer { certificates.directory.remove() }
        let server = try TunnelServer(
            configuration: TunnelServerConfiguration(
                host: "127.0.0.1", port: 0, certificateFile: certificates.hostCert, keyFile: certificates.hostKey,
                clusters: ["east-1": .init(tokenSHA256: TunnelFixture.sha256Hex("token"))]
            ),
            logger: Logger(label: "host")
        )
        try await server.start()
        defer { Task { await server.shutdown() } }
        func status(connection: String?) throws -> String {
            let connectionLine = connection.map { "Connection: \($0)\\r\\n" } ?? ""
            let script = "printf 'GET /tunnel/v1 HTTP/1.1\\r\\nHost: h\\r\\nAuthorization: Bearer token\\r\\n"
                + "\(connectionLine)Upgrade: websocket\\r\\nSec-WebSocket-Version: 13\\r\\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n\\r\\n' | timeout 3 openssl s_client "
                + "-quiet -connect 127.0.0.1:\(server.localPort!) 2>/dev/null | head -1"
            return try ProcessRunner.run("/bin/sh", ["-c", script], timeout: .seconds(10)).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try status(connection: "Upgrade").hasPrefix("HTTP/1.1 101"))
        #expect(try status(connection: "keep-alive, Upgrade").hasPrefix("HTTP/1.1 101"))
        #expect(try status(connection: nil).hasPrefix("HTTP/1.1 400"))
        #expect(try status(connection: "keep-alive").hasPrefix("HTTP/1.1 400"))
        #expect(server.refusalCounts()["badRequest"] == 2)
    }

    /// Found by TunnelFuzz: an upgrade request with a valid credential that announces a body (Content-Length or
    /// chunked) which never comes was accepted, and NIO's upgrader waited for the request's end: the connection
    /// stayed until the handshake timeout (here a minute), and its upgrade handler in a reference cycle after
    /// that. It is refused at its head with 400 and closed; a request with `Content-Length: 0` still upgrades.
    @Test func anUpgradeRequestAnnouncingABodyGets400AtOnce() async throws {
        let certificates = try TestCertificates()
        defer { certificates.directory.remove() }
        var limits = TunnelLimits()
        limits.handshakeTimeout = .seconds(60)
        let server = try TunnelServer(
            configuration: TunnelServerConfiguration(
                host: "127.0.0.1", port: 0, certificateFile: certificates.hostCert, keyFile: certificates.hostKey,
                clusters: ["east-1": .init(tokenSHA256: TunnelFixture.sha256Hex("token"))], limits: limits
            ),
            logger: Logger(label: "host")
        )
        try await server.start()
        defer { Task { await server.shutdown() } }
        // s_client -quiet keeps reading after its input ends: it returns when the server closes (or at its timeout).
        func exchange(_ extra: String, timeout: Int = 8) throws -> (status: String, seconds: Double) {
            let script = "printf 'GET /tunnel/v1 HTTP/1.1\\r\\nHost: h\\r\\nAuthorization: Bearer token\\r\\n"
                + "Connection: Upgrade\\r\\nUpgrade: websocket\\r\\nSec-WebSocket-Version: 13\\r\\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\n\(extra)\\r\\n' | timeout \(timeout) openssl s_client "
                + "-quiet -connect 127.0.0.1:\(server.localPort!) 2>/dev/null | head -1"
            let start = ContinuousClock.now
            let status = try ProcessRunner.run("/bin/sh", ["-c", script], timeout: .seconds(15)).stdout
                .trimmingCharacters(in: .whitespacesAndNewlines)
            let took = ContinuousClock.now - start
            return (status, Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18)
        }
        for extra in ["Content-Length: 5\\r\\n", "Transfer-Encoding: chunked\\r\\n"] {
            let (status, seconds) = try exchange(extra)
            #expect(status.hasPrefix("HTTP/1.1 400"), "\(extra): \(status)")
            #expect(seconds < 6, "\(extra): the connection stayed open \(seconds) s")
        }
        // Upgraded, it waits for frames: s_client ends at its timeout.
        #expect(try exchange("Content-Length: 0\\r\\n", timeout: 2).status.hasPrefix("HTTP/1.1 101"))
        #expect(server.refusalCounts()["badRequest"] == 2)
        // Nothing of the refused connections is held: none pending, no session.
        let deadline = ContinuousClock.now + .seconds(5)
        while server.pendingConnections != 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(server.pendingConnections == 0)
    }

    @Test func agentClaimingAnotherClustersNameIsRefused() async throws {
        let fixture = try await TunnelFixture()
        // east-1's token, but the agent says it is west-2: the credential decides, and the mismatch is refused.
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration(cluster: "west-2"))
        #expect(await fixture.logs.waitFor("agent claims cluster west-2 but its credential is for cluster east-1"))
        #expect(await fixture.agentLogs.waitFor("HTTP 403"))
        #expect(fixture.server.session(for: "east-1") == nil)
        #expect(fixture.server.session(for: "west-2") == nil)
        agentTask.cancel()
        await fixture.shutdown()
    }

    @Test func unpinnedHostCertificateIsRefusedByTheAgent() async throws {
        let fixture = try await TunnelFixture()
        // The agent pins a CA that did not sign the host's certificate.
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration(caFile: fixture.certificates.otherCA))
        #expect(await fixture.agentLogs.waitFor("TLS handshake failed"))
        #expect(fixture.agentLogs.contains("is --ca-file the CA that signed the host's certificate?"))
        #expect(fixture.server.session(for: "east-1") == nil)
        agentTask.cancel()
        await fixture.shutdown()
    }

    @Test func unknownClientCertificateIsRefusedByTheHost() async throws {
        let fixture = try await TunnelFixture(clientCertificates: true)
        let (cert, key) = fixture.certificates.clientCert("east-1", fromOtherCA: true)
        var configuration = try fixture.agentConfiguration()
        configuration.credential = .clientCertificate(
            chain: try NIOSSLCertificate.fromPEMFile(cert),
            key: try NIOSSLPrivateKey(file: key, format: .pem)
        )
        let (_, agentTask) = fixture.startAgent(configuration)
        #expect(await fixture.logs.waitFor("TLS with the agent failed"))
        #expect(
            fixture.logs.contains("(CN east-1) is within its dates: is it signed by the client CA?"),
            "\(fixture.logs.all)"
        )
        #expect(fixture.server.session(for: "east-1") == nil)
        agentTask.cancel()
        await fixture.shutdown()
    }

    @Test func expiredClientCertificateIsRefusedByTheHost() async throws {
        let fixture = try await TunnelFixture(clientCertificates: true)
        // Signed by the client CA the host trusts, for a configured cluster: only its dates (2020) are wrong.
        let (cert, key) = try fixture.certificates.makeExpiredClientCert("east-1")
        var configuration = try fixture.agentConfiguration()
        configuration.credential = .clientCertificate(
            chain: try NIOSSLCertificate.fromPEMFile(cert),
            key: try NIOSSLPrivateKey(file: key, format: .pem)
        )
        let (agent, agentTask) = fixture.startAgent(configuration)
        #expect(await fixture.logs.waitFor("TLS with the agent failed"))
        #expect(
            fixture.logs.contains("the agent's client certificate (CN east-1) expired at 2020-01-02T00:00:00Z"),
            "\(fixture.logs.all)"
        )
        // The agent keeps trying (and keeps being refused); the host serves on: a valid agent still gets in.
        #expect(await fixture.agentLogs.waitFor("tunnel to the host failed"))
        #expect(fixture.agentLogs.contains("EXPIRED"), "\(fixture.agentLogs.all)")
        #expect(fixture.server.session(for: "east-1") == nil)
        #expect(agent.connectionsEstablished == 0)
        agentTask.cancel()
        let (_, validTask) = fixture.startAgent(try fixture.agentConfiguration())
        defer { validTask.cancel() }
        _ = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }
        validTask.cancel()
        await fixture.shutdown()
    }

    @Test func nonAllowListedRequestsGet403Status() async throws {
        let fixture = try await TunnelFixture()
        let (_, agentTask) = fixture.startAgent(try fixture.agentConfiguration())
        defer { agentTask.cancel() }
        let session = try await within(.seconds(10)) { try await fixture.server.nextSession(for: "east-1") }
        for (method, path) in [
            ("GET", "/api/v1/secrets"), ("GET", "/api/v1/namespaces/default/secrets"), ("DELETE", "/api/v1/services"),
            ("GET", "/api/v1/services/../secrets"), ("GET", "/api/v1/namespaces/kube-system/services/kube-dns"),
        ] {
            let response = try await session.request(method: method, path: path, headers: [])
            #expect(response.status == 403, "\(method) \(path)")
            let body = try await collect(response.body)
            #expect(
                body.contains(#""kind":"Status""#) && body.contains(#""reason":"Forbidden""#)
                    && body.contains(#""code":403"#)
            )
        }
        #expect(await fixture.agentLogs.waitFor("refused GET /api/v1/secrets from the host"))
        // None of them reached the API server.
        #expect(!fixture.upstream.requests.contains { $0.contains("secrets") || $0.contains("kube-dns") })
        agentTask.cancel()
        await fixture.shutdown()
    }
}
