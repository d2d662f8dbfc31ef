import Foundation

/// Unbound as a member cluster's DNS would use mcdns: a recursive resolver on 127.0.0.1 with stub zones that
/// send the mcdns zones to an authoritative server on another loopback port.
///
/// Set up for a test, not for production: no chroot, no privilege drop, no remote control, no daemonizing, logs
/// on stderr (into the log file), one thread. `do-not-query-localhost: no` lets it query a loopback server at
/// all. The stub zones are `domain-insecure` (and no trust anchor is configured), so DNSSEC validation, which
/// unsigned mcdns zones could never pass, does not apply to them. Run state lives in a temporary directory
/// removed on `stop()`.
public final class UnboundProcess: @unchecked Sendable {
    public let port: UInt16
    public let stubZones: [String]
    private let directory: TemporaryDirectory
    private let process: BackgroundProcess

    /// Starts unbound with a stub zone for each of `stubZones` pointing at `127.0.0.1@authorityPort`, checks the
    /// config with `unbound-checkconf`, and waits until it answers `probeName` over UDP and TCP. Retries on a new
    /// port when the first choice was taken meanwhile. `extraServerOptions` are added to the `server:` clause.
    public static func start(
        stubZones: [String],
        authorityPort: UInt16,
        probeName: String,
        extraServerOptions: [String] = [],
        startupTimeout: Duration = .seconds(20)
    ) throws -> UnboundProcess {
        let executable = try ProcessRunner.locate("unbound", package: "unbound")
        let checkconf = try ProcessRunner.locate("unbound-checkconf", package: "unbound")
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try FreePort.loopback()
            let directory = try TemporaryDirectory(prefix: "mcdns-unbound")
            let config = try directory.write(
                "unbound.conf",
                configuration(
                    directory: directory.path,
                    port: port,
                    stubZones: stubZones,
                    authorityPort: authorityPort,
                    extraServerOptions: extraServerOptions
                )
            )
            let checked = try ProcessRunner.run(checkconf, [config])
            guard checked.status == 0 else {
                throw TestSupportError.serverFailed(
                    "unbound-checkconf refused \(config)",
                    log: checked.stdout + checked.stderr
                )
            }
            let process = try BackgroundProcess(
                executable,
                ["-d", "-c", config],
                logPath: directory.path + "/unbound.log"
            )
            do {
                try DNSReadiness.waitUntilAnswering(
                    port: port,
                    probeName: probeName,
                    probeType: "A",
                    process: process,
                    timeout: startupTimeout
                )
                return UnboundProcess(port: port, stubZones: stubZones, directory: directory, process: process)
            } catch {
                process.stop()
                lastError = error
            }
        }
        throw lastError ?? TestSupportError.system("unbound did not start")
    }

    static func configuration(
        directory: String,
        port: UInt16,
        stubZones: [String],
        authorityPort: UInt16,
        extraServerOptions: [String]
    ) -> String {
        var lines = [
            "server:",
            "    interface: 127.0.0.1",
            "    port: \(port)",
            "    do-ip6: no",
            "    access-control: 127.0.0.0/8 allow",
            "    directory: \"\(directory)\"",
            "    chroot: \"\"",
            "    username: \"\"",
            "    pidfile: \"\(directory)/unbound.pid\"",
            "    use-syslog: no",
            "    logfile: \"\"",
            "    verbosity: 1",
            "    num-threads: 1",
            "    so-reuseport: no",
            // The authority is on loopback, which unbound refuses to query by default.
            "    do-not-query-localhost: no",
            // As mcdns's own default; keeps big answers on UDP identical on both paths.
            "    edns-buffer-size: 1232",
            // Keep the order of RRs as received (the comparison sorts anyway) and fetch nothing on its own.
            "    rrset-roundrobin: no",
            "    prefetch: no",
        ]
        for zone in stubZones { lines.append("    domain-insecure: \"\(zone)\"") }
        lines += extraServerOptions.map { "    " + $0 }
        lines += ["remote-control:", "    control-enable: no"]
        for zone in stubZones {
            lines += ["stub-zone:", "    name: \"\(zone)\"", "    stub-addr: 127.0.0.1@\(authorityPort)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private init(port: UInt16, stubZones: [String], directory: TemporaryDirectory, process: BackgroundProcess) {
        self.port = port
        self.stubZones = stubZones
        self.directory = directory
        self.process = process
    }

    public var isRunning: Bool { process.isRunning }
    public var log: String { process.log }

    public func stop() {
        process.stop()
        directory.remove()
    }

    deinit { stop() }
}
