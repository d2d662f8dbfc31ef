import ArgumentParser
import MCDNSDaemon

/// `mcdns check`: validates the configuration and every zone file through the same code `serve` uses.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate a configuration and the zone files it names.",
        discussion: """
            Prints each problem as file:line: message, one per line, then a summary. Exits with status 1 when \
            anything is wrong; otherwise lists what was checked and exits with 0.

            Examples:
              mcdns check --config examples/demo/mcdns.yaml
              mcdns check --config /etc/mcdns/mcdns.yaml && systemctl reload mcdns
            """
    )

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    func run() async throws {
        let report = ConfigurationCheck.run(file: config)
        Output.errors(report.errors)
        if report.errors.isEmpty {
            Output.line("\(config): configuration ok")
            for zone in report.zones {
                Output.line("\(zone.file): zone \(zone.origin) ok (\(zone.recordCount) records)")
            }
            Output.line("ok: 1 configuration, \(report.zones.count) zone file\(report.zones.count == 1 ? "" : "s")")
        } else {
            let count = report.errors.count
            Output.line("failed: \(count) error\(count == 1 ? "" : "s") in \(config) and its zone files")
            throw ExitCode.failure
        }
    }
}
