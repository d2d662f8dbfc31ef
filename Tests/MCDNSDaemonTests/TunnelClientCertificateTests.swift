import ClusterTunnel
import DNSTestSupport
import Foundation
import KubeClient
import Logging
import MCDNSDaemon
import NIOSSL
import Testing

/// Issue 23: client-certificate authentication reached from the daemon's configuration (`tunnel.tls.clientCA`,
/// `tunnel.clusters.NAME: {}`), through `TunnelHostService`. The cluster is the certificate's subject CN (else
/// its first DNS SAN). A known CA's certificate connects as its cluster; an unknown CA, an expired certificate,
/// or a certificate of another cluster are refused.
@Suite(.serialized) struct TunnelClientCertificateTests {
    struct Host {
        let certificates: TestCertificates
        let service: TunnelHostService
        var server: TunnelServer { service.server }
    }

    static func host() async throws -> Host {
        let certificates = try TestCertificates(clientClusters: ["east-1", "west-2"])
        let yaml = """
            zonesDir: \(certificates.path)
            clusters:
              - { name: east-1, source: { tunnel: {} } }
              - { name: west-2, source: { tunnel: {} } }
            tunnel:
              listen: "127.0.0.1:\(try FreePort.pick())"
              tls: { cert: \(certificates.hostCert), key: \(certificates.hostKey), clientCA: \(certificates.clientCA) }
              clusters:
                east-1: {}
                west-2: {}
            """
        let configuration = try Configuration.parse(yaml: yaml, file: "\(certificates.path)/mcdns.yaml")
        let tunnel = try #require(configuration.tunnel)
        #expect(tunnel.tls.clientCA?.hasSuffix("/client-ca.pem") == true, "\(String(describing: tunnel.tls.clientCA))")
        #expect(tunnel.clusters["east-1"]?.tokenSHA256 == nil)
        let service = try TunnelHostService(configuration: configuration, tunnel: tunnel, logger: Logger(label: "host"))
        try await service.server.start()
        return Host(certificates: certificates, service: service)
    }

    /// An agent for `cluster` presenting `certificate`, until the returned task is cancelled.
    static func agent(_ host: Host, cluster: String, certificate: (cert: String, key: String)) throws
        -> (TunnelAgent, Task<Void, Never>)
    {
        var configuration = try TunnelAgentConfiguration(
            url: "wss://127.0.0.1:\(host.server.localPort!)", cluster: cluster,
            tokenFile: "/nonexistent", caFile: host.certificates.hostCA,
            backoff: ReconnectBackoff(initial: .milliseconds(50), maximum: .milliseconds(200))
        )
        configuration.credential = .clientCertificate(
            chain: try NIOSSLCertificate.fromPEMFile(certificate.cert),
            key: try NIOSSLPrivateKey(file: certificate.key, format: .pem)
        )
        let upstream = try HTTPKubeConnector(
            configuration: KubeClientConfiguration(server: "http://127.0.0.1:1", origin: "unused"),
            logger: Logger(label: "upstream")
        )
        let agent = TunnelAgent(configuration: configuration, upstream: KubeTunnelUpstream(connector: upstream),
                                logger: Logger(label: "agent"))
        return (agent, Task { await agent.run() })
    }

    static func eventually(_ condition: @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    @Test func aCertificateFromTheClientCAConnectsAsItsCluster() async throws {
        let host = try await Self.host()
        defer { host.certificates.directory.remove() }
        let (_, task) = try Self.agent(host, cluster: "east-1", certificate: host.certificates.clientCert("east-1"))
        let session = try await host.server.nextSession(for: "east-1")
        #expect(session.authentication == "client certificate")
        task.cancel()
        await host.server.shutdown()
    }

    @Test func anUnknownCAAnExpiredCertificateAndAnotherClustersCertificateAreRefused() async throws {
        let host = try await Self.host()
        defer { host.certificates.directory.remove() }
        let server = host.server
        // Another CA: the TLS handshake fails.
        let (_, foreign) = try Self.agent(
            host, cluster: "east-1", certificate: host.certificates.clientCert("east-1", fromOtherCA: true)
        )
        #expect(await Self.eventually { server.refusalCounts()["tls", default: 0] >= 1 }, "\(server.refusalCounts())")
        foreign.cancel()
        // Expired (2020-01-01 to 2020-01-02), from the right CA: the TLS handshake fails too.
        let tlsBefore = server.refusalCounts()["tls", default: 0]
        let (_, expired) = try Self.agent(
            host, cluster: "east-1", certificate: try host.certificates.makeExpiredClientCert("east-1")
        )
        #expect(await Self.eventually { server.refusalCounts()["tls", default: 0] > tlsBefore })
        expired.cancel()
        // West-2's valid certificate used by an agent that says it is east-1: the credential decides, 403.
        let (_, other) = try Self.agent(host, cluster: "east-1", certificate: host.certificates.clientCert("west-2"))
        #expect(await Self.eventually { server.refusalCounts()["forbidden", default: 0] >= 1 })
        other.cancel()
        #expect(server.session(for: "east-1") == nil)
        #expect(server.status().allSatisfy { $0.sessionsAccepted == 0 })
        await server.shutdown()
    }
}
