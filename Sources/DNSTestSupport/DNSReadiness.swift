import Foundation

/// Waits until a DNS server on a loopback port answers, over UDP and over TCP.
public enum DNSReadiness {
    /// Polls with single-try dig queries until one UDP and one TCP query get any response (any RCODE counts:
    /// the server is up). Fails early with the server's log when `process` exits, and after `timeout` otherwise.
    public static func waitUntilAnswering(
        port: UInt16,
        probeName: String = ".",
        probeType: String = "SOA",
        process: BackgroundProcess? = nil,
        timeout: Duration = .seconds(20)
    ) throws {
        var dig = try Dig(port: port, timeoutSeconds: 1)
        dig.server = "127.0.0.1"
        let deadline = ContinuousClock.now + timeout
        for transport in [[], ["+tcp"]] {
            while true {
                if let process, !process.isRunning {
                    throw TestSupportError.serverFailed(
                        "\(process.executable) exited with status \(process.terminationStatus ?? -1) before answering",
                        log: process.log
                    )
                }
                if (try? dig.query(probeName, probeType, options: transport)) != nil { break }
                guard ContinuousClock.now < deadline else {
                    throw TestSupportError.timeout(
                        "no DNS answer on 127.0.0.1:\(port) \(transport.first ?? "udp") within \(timeout)"
                            + (process.map { "\n--- server log ---\n\($0.log)" } ?? "")
                    )
                }
                // A short pause between polls: a refused UDP probe returns at once and would spin.
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }
}
