import Foundation

/// Knot DNS or NSD started as a TSIG-keyed secondary of a primary on 127.0.0.1 (mcdns in the zone transfer
/// tests): it takes `zones` from the primary by zone transfer, accepts NOTIFY from 127.0.0.1 signed with the key,
/// and itself allows unsigned AXFR from 127.0.0.1 (so a test can compare what it holds). Run state lives in a
/// private temporary directory removed on `stop()`.
public final class SecondaryServerProcess: @unchecked Sendable {
    public let implementation: ZoneServerProcess.Implementation
    public let port: UInt16
    private let directory: TemporaryDirectory
    private let process: BackgroundProcess

    /// The key as both sides spell it: name, algorithm, base64 secret.
    public struct Key: Sendable {
        public var name: String
        public var algorithm: String
        public var secret: String

        public init(name: String, algorithm: String = "hmac-sha256", secret: String) {
            self.name = name
            self.algorithm = algorithm
            self.secret = secret
        }
    }

    /// Starts the secondary on `port` and waits until it answers (not until it holds the zones).
    public static func start(
        _ implementation: ZoneServerProcess.Implementation,
        port: UInt16,
        zones: [String],
        primaryPort: UInt16,
        key: Key,
        startupTimeout: Duration = .seconds(20)
    ) throws
        -> SecondaryServerProcess
    {
        let executable = try ProcessRunner.locate(implementation.executableName, package: implementation.debianPackage)
        let directory = try TemporaryDirectory(prefix: "mcdns-secondary-\(implementation.rawValue)")
        let arguments: [String]
        switch implementation {
        case .knot:
            let config = try directory.write(
                "knot.conf",
                knotConfig(
                    directory: directory.path,
                    port: port,
                    zones: zones,
                    primaryPort: primaryPort,
                    key: key
                )
            )
            arguments = ["-c", config]
        case .nsd:
            let config = try directory.write(
                "nsd.conf",
                nsdConfig(
                    directory: directory.path,
                    port: port,
                    zones: zones,
                    primaryPort: primaryPort,
                    key: key
                )
            )
            arguments = ["-d", "-c", config]
        }
        let process = try BackgroundProcess(executable, arguments, logPath: directory.path + "/server.log")
        do {
            try DNSReadiness.waitUntilAnswering(port: port, process: process, timeout: startupTimeout)
        } catch {
            process.stop()
            directory.remove()
            throw error
        }
        return SecondaryServerProcess(
            implementation: implementation,
            port: port,
            directory: directory,
            process: process
        )
    }

    private init(
        implementation: ZoneServerProcess.Implementation,
        port: UInt16,
        directory: TemporaryDirectory,
        process: BackgroundProcess
    ) {
        self.implementation = implementation
        self.port = port
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

    static func knotConfig(directory: String, port: UInt16, zones: [String], primaryPort: UInt16, key: Key) -> String {
        var text = """
            server:
                rundir: "\(directory)"
                listen: 127.0.0.1@\(port)
                udp-workers: 1
                tcp-workers: 1
                background-workers: 1
            control:
                listen: "\(directory)/knot.sock"
            database:
                storage: "\(directory)/db"
            log:
              - target: stderr
                any: info
            key:
              - id: \(key.name)
                algorithm: \(key.algorithm)
                secret: \(key.secret)
            remote:
              - id: primary
                address: 127.0.0.1@\(primaryPort)
                key: \(key.name)
            acl:
              - id: notify-from-primary
                address: 127.0.0.1
                key: \(key.name)
                action: notify
              - id: local-transfer
                address: 127.0.0.1
                action: transfer
            template:
              - id: default
                storage: "\(directory)"
                zonefile-sync: -1
                zonefile-load: none
                journal-content: changes
            zone:

            """
        for zone in zones {
            text += "  - domain: \"\(zone)\"\n    master: primary\n    acl: [notify-from-primary, local-transfer]\n"
        }
        return text
    }

    static func nsdConfig(directory: String, port: UInt16, zones: [String], primaryPort: UInt16, key: Key) -> String {
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
                verbosity: 2
                rrl-ratelimit: 0
            remote-control:
                control-enable: no
            key:
                name: "\(key.name)"
                algorithm: \(key.algorithm)
                secret: "\(key.secret)"

            """
        for zone in zones {
            text += """
                zone:
                    name: "\(zone)"
                    allow-notify: 127.0.0.1 \(key.name)
                    request-xfr: 127.0.0.1@\(primaryPort) \(key.name)
                    provide-xfr: 127.0.0.1 NOKEY

                """
        }
        return text
    }
}
