import Foundation

/// Everything the tunnel member needs: a CA and the host's certificate (made with the `openssl` CLI), a bearer
/// token and its SHA-256, a kubeconfig for the agent, and the cuttable proxy the agent dials through.
struct TunnelSetup {
    let directory: String
    let tunnelPort: UInt16
    let proxy: CutProxy
    let hostConfig: String

    init(directory: String, memberServer: String) throws {
        self.directory = directory
        let certs = """
            set -e
            openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.pem -days 2 \
              -subj /CN=bench-ca -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
            openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout host.key -out host.csr -subj /CN=host
            printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > host.ext
            openssl x509 -req -in host.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out host.pem -days 2 -extfile host.ext
            printf %s bench-tunnel-token > token
            sha256sum token | cut -c1-64 > token.sha256
            """
        try Self.shell(certs, in: directory)
        let digest = try String(contentsOfFile: directory + "/token.sha256", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        try """
            apiVersion: v1
            kind: Config
            current-context: t0
            clusters:
            - { name: t0, cluster: { server: "\(memberServer)" } }
            contexts:
            - { name: t0, context: { cluster: t0 } }

            """.write(toFile: directory + "/t0.kubeconfig", atomically: true, encoding: .utf8)
        tunnelPort = freeTCPPort()
        proxy = try CutProxy(upstreamPort: tunnelPort)
        hostConfig = """
            tunnel:
              listen: "127.0.0.1:\(tunnelPort)"
              tls: { cert: "\(directory)/host.pem", key: "\(directory)/host.key" }
              clusters:
                t0: { tokenSHA256: \(digest) }

            """
    }

    /// `mcdns agent` for t0, dialling the host through the proxy; its log goes to agent.log.
    func startAgent(mcdns: String) throws -> Process {
        let agent = Process()
        agent.executableURL = URL(fileURLWithPath: mcdns)
        agent.arguments = [
            "agent", "--host", "wss://127.0.0.1:\(proxy.port)", "--cluster", "t0", "--token-file",
            directory + "/token", "--ca-file", directory + "/ca.pem", "--kubeconfig", directory + "/t0.kubeconfig",
        ]
        _ = FileManager.default.createFile(atPath: directory + "/agent.log", contents: nil)
        agent.standardError = FileHandle(forWritingAtPath: directory + "/agent.log")
        try agent.run()
        return agent
    }

    static func shell(_ script: String, in directory: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", script]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "bench", code: 1, userInfo: [NSLocalizedDescriptionKey: "tunnel certificates: openssl failed in \(directory)"])
        }
    }
}

/// A free loopback TCP port (the host binds it a moment later).
func freeTCPPort() -> UInt16 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return UInt16(bigEndian: address.sin_port)
}
