import ClusterTunnel
import DNSTestSupport
import Foundation
import Logging
import Testing

/// Issue 23: the tunnel listener speaks TLS 1.2 or newer and, in TLS 1.2, only forward-secret AEAD suites.
/// Checked with a real `openssl s_client` against a host key of each kind: RSA (where NIOSSL's defaults also took
/// RSA key exchange, `AES128-SHA`) and ECDSA.
@Suite(.serialized) struct TunnelTLSTests {
    /// A tunnel server with a fresh self-signed certificate of `keyType` (`rsa:2048`, or `ec` for P-256).
    static func server(keyType: String, in directory: TemporaryPath) throws -> TunnelServer {
        var arguments = ["req", "-x509", "-newkey", keyType]
        if keyType == "ec" { arguments += ["-pkeyopt", "ec_paramgen_curve:P-256"] }
        arguments += ["-nodes", "-keyout", directory.path + "/host.key", "-out", directory.path + "/host.crt",
                      "-days", "2", "-subj", "/CN=127.0.0.1"]
        let made = try ProcessRunner.run(try ProcessRunner.locate("openssl", package: "openssl"), arguments)
        guard made.status == 0 else { throw TestSupportError.system("openssl req: \(made.stderr)") }
        return try TunnelServer(
            configuration: TunnelServerConfiguration(
                host: "127.0.0.1", port: 0, certificateFile: directory.path + "/host.crt",
                keyFile: directory.path + "/host.key",
                clusters: ["east-1": .init(tokenSHA256: String(repeating: "ab", count: 32))]
            ),
            logger: Logger(label: "host")
        )
    }

    /// One handshake with `openssl s_client` and `options`: the negotiated "protocol cipher", or nil if refused.
    static func handshake(port: Int, _ options: String) throws -> String? {
        let output = try ProcessRunner.run(
            "/bin/sh", ["-c", "openssl s_client -connect 127.0.0.1:\(port) -brief \(options) </dev/null 2>&1"],
            timeout: .seconds(10)
        )
        guard output.status == 0 else { return nil }
        let lines = output.stdout.split(separator: "\n")
        let version = lines.first { $0.hasPrefix("Protocol version:") }?.split(separator: ":").last ?? ""
        let cipher = lines.first { $0.hasPrefix("Ciphersuite:") }?.split(separator: ":").last ?? ""
        return "\(version.trimmingCharacters(in: .whitespaces)) \(cipher.trimmingCharacters(in: .whitespaces))"
    }

    @Test(arguments: ["rsa:2048", "ec"])
    func oldVersionsAndSuitesWithoutForwardSecrecyAreRefused(keyType: String) async throws {
        let directory = try TemporaryPath()
        defer { directory.remove() }
        let server = try Self.server(keyType: keyType, in: directory)
        try await server.start()
        defer { Task { await server.shutdown() } }
        let port = server.localPort!
        let rsa = keyType.hasPrefix("rsa")

        // Refused: TLS 1.0 and 1.1 (SECLEVEL=0 lets this openssl offer them), RSA key exchange, CBC.
        #expect(try Self.handshake(port: port, "-tls1 -cipher 'ALL:@SECLEVEL=0'") == nil)
        #expect(try Self.handshake(port: port, "-tls1_1 -cipher 'ALL:@SECLEVEL=0'") == nil)
        #expect(try Self.handshake(port: port, "-tls1_2 -cipher 'AES128-SHA:AES256-GCM-SHA384:@SECLEVEL=0'") == nil)
        let cbc = rsa ? "ECDHE-RSA-AES128-SHA" : "ECDHE-ECDSA-AES128-SHA"
        #expect(try Self.handshake(port: port, "-tls1_2 -cipher '\(cbc):@SECLEVEL=0'") == nil)

        // Accepted: TLS 1.2 with ECDHE and an AEAD cipher; TLS 1.3; and TLS 1.3 is what a client gets by default.
        let aead = rsa ? "ECDHE-RSA-AES128-GCM-SHA256" : "ECDHE-ECDSA-AES128-GCM-SHA256"
        #expect(try Self.handshake(port: port, "-tls1_2 -cipher \(aead)") == "TLSv1.2 \(aead)")
        #expect(try Self.handshake(port: port, "-tls1_3")?.hasPrefix("TLSv1.3 TLS_") == true)
        #expect(try Self.handshake(port: port, "")?.hasPrefix("TLSv1.3 ") == true)
    }
}

/// A temporary directory, removed by `remove()`.
struct TemporaryPath {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "tunnel-tls-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }
}
