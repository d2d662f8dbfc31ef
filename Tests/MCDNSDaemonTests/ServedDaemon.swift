import DNSTestSupport
import DNSWire
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `mcdns serve` on loopback with the demo members copied into a temporary directory (so tests can edit them),
/// the repository's zones, and free DNS and admin ports; restartable on the same directory and state.
final class ServedDaemon: @unchecked Sendable {
    let dir: TemporaryDirectory
    let dnsPort: Int
    let adminPort: Int
    let configPath: String
    private(set) var process: ChildProcess
    private(set) var stderr: OutputLines

    var admin: String { "http://127.0.0.1:\(adminPort)" }

    /// The config text for `dir`; `extra` is appended (later keys may not repeat earlier ones).
    static func config(dir: TemporaryDirectory, dnsPort: Int, adminPort: Int, extra: String) -> String {
        """
        listen: { dns: ["127.0.0.1:\(dnsPort)"], admin: "127.0.0.1:\(adminPort)" }
        zonesDir: \(MCDNSProcess.packageRoot)/zones
        stateDir: \(dir.path)/state
        federation: { name: acme, domain: example.com }
        staleGracePeriod: 2m
        dns: { udpThreadsPerAddress: 1, tcpIdleTimeout: 5s }
        clusters:
          - { name: east-1, source: { manifests: members/east-1 } }
          - { name: east-2, source: { manifests: members/east-2 } }
          - { name: west-1, source: { manifests: members/west-1 } }
        \(extra)
        """
    }

    static func start(extra: String = "") async throws -> ServedDaemon {
        let dir = try TemporaryDirectory()
        let members = MCDNSProcess.packageRoot + "/examples/demo/members"
        try FileManager.default.copyItem(atPath: members, toPath: dir.path + "/members")
        var lastLog = ""
        for _ in 0..<4 {
            let dnsPort = try FreePort.pick()
            let adminPort = try FreePort.pick()
            let config = try dir.write(
                "mcdns.yaml",
                config(dir: dir, dnsPort: dnsPort, adminPort: adminPort, extra: extra)
            )
            let process = try MCDNSProcess.start(["serve", "--config", config])
            let stderr = OutputLines(process.standardError!)
            let daemon = ServedDaemon(
                dir: dir,
                dnsPort: dnsPort,
                adminPort: adminPort,
                configPath: config,
                process: process,
                stderr: stderr
            )
            if await daemon.waitUntilServing() { return daemon }
            daemon.kill(SIGKILL)
            lastLog = stderr.all
            // A port taken between picking and binding: try new ones.
            guard lastLog.contains("in use") || lastLog.contains("Address already") else { break }
        }
        dir.remove()
        throw DaemonFailure("mcdns did not start:\n\(lastLog)")
    }

    private init(
        dir: TemporaryDirectory,
        dnsPort: Int,
        adminPort: Int,
        configPath: String,
        process: ChildProcess,
        stderr: OutputLines
    ) {
        self.dir = dir
        self.dnsPort = dnsPort
        self.adminPort = adminPort
        self.configPath = configPath
        self.process = process
        self.stderr = stderr
    }

    func waitUntilServing() async -> Bool {
        guard await stderr.wait(for: "listening on udp 127.0.0.1:\(dnsPort)", timeout: .seconds(60)) else {
            return false
        }
        return await stderr.wait(for: "admin API listening", timeout: .seconds(30))
    }

    /// Starts the daemon again on the same directory, ports and state; returns when the process is spawned.
    func restart() throws {
        let process = try MCDNSProcess.start(["serve", "--config", configPath])
        self.process = process
        self.stderr = OutputLines(process.standardError!)
    }

    func kill(_ signal: Int32) {
        process.send(signal)
    }

    /// SIGTERM and wait for the exit; returns the exit status (nil if it did not exit in time).
    func stop() async -> Int32? {
        kill(SIGTERM)
        guard await stderr.waitForEnd(timeout: .seconds(30)) else {
            kill(SIGKILL)
            return nil
        }
        process.waitUntilExit()
        if case .exit(let status) = process.termination { return status }
        return nil
    }

    func remove() {
        kill(SIGKILL)
        dir.remove()
    }

    /// One UDP query; `asCluster` sets the EDNS0 option 65518. Nil when no answer came.
    func query(
        _ name: String,
        _ type: RRType = .a,
        asCluster: String? = nil,
        timeout: Duration = .seconds(2)
    ) throws
        -> Message?
    {
        var options: [UInt8] = []
        if let asCluster {
            let value = Array(asCluster.utf8)
            options = [0xFF, 0xEE, 0, UInt8(value.count)] + value
        }
        let packet = try Message.query(
            name: try DomainName(name),
            type: type,
            id: UInt16.random(in: 1...0xFFFF),
            edns: (1232, 0, false, options)
        )
        guard let reply = try LoopbackUDPClient.exchange(packet, port: UInt16(dnsPort), timeout: timeout) else {
            return nil
        }
        return try Message(wire: reply)
    }

    /// `curl` against the admin API: (HTTP status, body).
    func http(_ path: String, token: String? = nil) throws -> (status: Int, body: String) {
        var arguments = ["-s", "-m", "10", "-o", "-", "-w", "\n%{http_code}", admin + path]
        if let token { arguments += ["-H", "Authorization: Bearer \(token)"] }
        let result = try ProcessRunner.run("/usr/bin/curl", arguments, timeout: .seconds(20))
        var lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        let status = Int(lines.popLast() ?? "") ?? 0
        return (status, lines.joined(separator: "\n"))
    }
}

struct DaemonFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
