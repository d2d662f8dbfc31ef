import Foundation

/// `mcdns serve` started as a real subprocess on a loopback port, with a generated config in a temp directory.
public final class MCDNSProcess: @unchecked Sendable {
    public let port: UInt16
    public let configPath: String
    private let directory: TemporaryDirectory
    private let process: BackgroundProcess

    /// Starts `binary serve --config <generated>` serving the `*.zone` files of `zonesDir`, and waits until it
    /// answers over UDP and TCP. `extraConfig` is appended to the YAML; `stateDir` (default: in the temp
    /// directory) lets a restarted daemon find its predecessor's state; the admin API listens on `adminPort`
    /// (0: any). Retries on a new port when the first
    /// choice was taken meanwhile.
    public static func start(
        binary: String,
        zonesDir: String,
        adminPort: UInt16 = 0,
        extraConfig: String = "",
        stateDir: String? = nil,
        startupTimeout: Duration = .seconds(30)
    ) throws -> MCDNSProcess {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw TestSupportError.toolMissing(binary, package: "(this package: run `swift build` first)")
        }
        var lastError: (any Error)?
        for _ in 0..<3 {
            let port = try FreePort.loopback()
            let directory = try TemporaryDirectory(prefix: "mcdns-serve")
            let config = try directory.write(
                "mcdns.yaml",
                """
                listen: { dns: ["127.0.0.1:\(port)"], admin: "127.0.0.1:\(adminPort)" }
                zonesDir: "\(zonesDir)"
                stateDir: "\(stateDir ?? directory.path + "/state")"
                \(extraConfig)
                """
            )
            let process = try BackgroundProcess(
                binary,
                ["serve", "--config", config],
                logPath: directory.path + "/mcdns.log"
            )
            do {
                try DNSReadiness.waitUntilAnswering(port: port, process: process, timeout: startupTimeout)
                return MCDNSProcess(port: port, configPath: config, directory: directory, process: process)
            } catch {
                process.stop()
                lastError = error
            }
        }
        throw lastError ?? TestSupportError.system("mcdns did not start")
    }

    private init(port: UInt16, configPath: String, directory: TemporaryDirectory, process: BackgroundProcess) {
        self.port = port
        self.configPath = configPath
        self.directory = directory
        self.process = process
    }

    public var isRunning: Bool { process.isRunning }
    /// The process id (to send it SIGHUP).
    public var pid: Int32 { process.pid }
    public var log: String { process.log }

    public func stop() {
        process.stop()
        directory.remove()
    }

    deinit { stop() }
}
