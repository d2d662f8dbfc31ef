import Foundation

/// A real reference DNS server (Knot DNS or NSD) serving zone files on 127.0.0.1, for differential tests and
/// harness checks.
///
/// Configured as close to mcdns as the servers allow: authoritative only, no DNSSEC, a 1232-byte UDP payload
/// limit, one UDP and one TCP worker. All run state (config, pid file, databases, control socket, log) lives in a
/// private temporary directory removed on `stop()`.
public final class ZoneServerProcess: @unchecked Sendable {
    public enum Implementation: String, Sendable, CaseIterable {
        case knot
        case nsd

        var executableName: String { self == .knot ? "knotd" : "nsd" }
        var debianPackage: String { self == .knot ? "knot" : "nsd" }
    }

    public let implementation: Implementation
    public let port: UInt16
    public let zones: [ServedZone]
    private let directory: TemporaryDirectory
    private let process: BackgroundProcess

    /// Starts the server and waits until it answers over UDP and TCP. With `port == nil` a free port is picked,
    /// and a start that fails (another process took the port meanwhile) is retried on a new port.
    public static func start(
        _ implementation: Implementation,
        zones: [ServedZone],
        port: UInt16? = nil,
        allowTransfer: Bool = false,
        startupTimeout: Duration = .seconds(20)
    ) throws -> ZoneServerProcess {
        let executable = try ProcessRunner.locate(implementation.executableName, package: implementation.debianPackage)
        var lastError: (any Error)?
        for _ in 0..<(port == nil ? 3 : 1) {
            let chosenPort = try port ?? FreePort.loopback()
            let directory = try TemporaryDirectory(prefix: "mcdns-\(implementation.rawValue)")
            let arguments: [String]
            switch implementation {
            case .knot:
                let config = try directory.write(
                    "knot.conf",
                    knotConfig(directory: directory.path, port: chosenPort, zones: zones, allowTransfer: allowTransfer)
                )
                arguments = ["-c", config]
            case .nsd:
                let config = try directory.write(
                    "nsd.conf",
                    nsdConfig(directory: directory.path, port: chosenPort, zones: zones, allowTransfer: allowTransfer)
                )
                arguments = ["-d", "-c", config]
            }
            let process = try BackgroundProcess(executable, arguments, logPath: directory.path + "/server.log")
            do {
                try DNSReadiness.waitUntilAnswering(port: chosenPort, process: process, timeout: startupTimeout)
                return ZoneServerProcess(
                    implementation: implementation,
                    port: chosenPort,
                    zones: zones,
                    directory: directory,
                    process: process
                )
            } catch {
                process.stop()
                lastError = error
            }
        }
        throw lastError ?? TestSupportError.system("\(implementation.rawValue) did not start")
    }

    private init(
        implementation: Implementation,
        port: UInt16,
        zones: [ServedZone],
        directory: TemporaryDirectory,
        process: BackgroundProcess
    ) {
        self.implementation = implementation
        self.port = port
        self.zones = zones
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

    /// `allowTransfer`: AXFR from 127.0.0.1 is allowed (off by default: the differential tests compare refusals).
    static func knotConfig(directory: String, port: UInt16, zones: [ServedZone], allowTransfer: Bool = false) -> String {
        var text = """
            server:
                rundir: "\(directory)"
                listen: 127.0.0.1@\(port)
                udp-workers: 1
                tcp-workers: 1
                background-workers: 1
                udp-max-payload: 1232
            control:
                listen: "\(directory)/knot.sock"
            database:
                storage: "\(directory)/db"
            log:
              - target: stderr
                any: info
            acl:
              - id: local-transfer
                address: 127.0.0.1
                action: transfer
            template:
              - id: default
                storage: "\(directory)"
                zonefile-sync: -1
                zonefile-load: whole
                journal-content: none
            zone:

            """
        for zone in zones {
            text += "  - domain: \"\(zone.origin)\"\n    file: \"\(zone.path)\"\n"
            if allowTransfer { text += "    acl: local-transfer\n" }
        }
        return text
    }

    static func nsdConfig(directory: String, port: UInt16, zones: [ServedZone], allowTransfer: Bool = false) -> String {
        var text = """
            server:
                ip-address: 127.0.0.1@\(port)
                do-ip6: no
                server-count: 1
                username: ""
                chroot: ""
                zonesdir: "\(directory)"
                pidfile: "\(directory)/nsd.pid"
                database: ""
                zonelistfile: "\(directory)/zone.list"
                xfrdfile: "\(directory)/xfrd.state"
                xfrdir: "\(directory)"
                verbosity: 1
                ipv4-edns-size: 1232
                rrl-ratelimit: 0
                minimal-responses: yes
            remote-control:
                control-enable: no

            """
        for zone in zones {
            text += "zone:\n    name: \"\(zone.origin)\"\n    zonefile: \"\(zone.path)\"\n"
            if allowTransfer { text += "    provide-xfr: 127.0.0.1 NOKEY\n" }
        }
        return text
    }
}
