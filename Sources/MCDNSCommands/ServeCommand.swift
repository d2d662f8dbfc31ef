import ArgumentParser
import Logging
import MCDNSDaemon

/// `mcdns serve`: refuses to start on any configuration or zone error, then runs until SIGTERM or SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: the member watchers, the merge, the DNS server and the admin API.",
        discussion: """
            Loads the configuration and every *.zone file of its zonesDir; on any error prints each one as \
            file:line: message and exits with status 1 without serving. Starts from the saved state of stateDir \
            when there is one (answers at once, marked stale until the members resync). Stops cleanly (status 0) \
            on SIGTERM or SIGINT, after TCP connections have their answers. SIGHUP reloads the configuration and \
            the zone files; a broken one is refused (logged) and the running one keeps serving.

            Examples:
              mcdns serve --config examples/demo/mcdns.yaml
              mcdns serve --config /etc/mcdns/mcdns.yaml --log-level debug
            """
    )

    @Option(name: .long, help: "The configuration file (YAML).")
    var config: String

    @Option(
        name: .long,
        help: "The least severe level of the log lines printed."
    )
    var logLevel: LogLevel = .info

    func run() async throws {
        let configuration: Configuration
        do {
            configuration = try Configuration.load(file: config)
        } catch {
            Output.errors(error.errors, to: .standardError)
            Output.line(
                "mcdns: not serving: \(error.errors.count) error\(error.errors.count == 1 ? "" : "s")",
                to: .standardError
            )
            throw ExitCode.failure
        }
        let logger = MCDNSDaemon.bootstrapLogging(level: logLevel.level)
        MCDNSDaemon.bootstrapMetrics()
        do {
            let group = try await MCDNSDaemon.build(configuration: configuration, logger: logger)
            try await group.run()
        } catch let error as StartupError {
            Output.errors(error.errors, to: .standardError)
            Output.line(
                "mcdns: not serving: \(error.errors.count) error\(error.errors.count == 1 ? "" : "s")",
                to: .standardError
            )
            throw ExitCode.failure
        } catch {
            Output.line("mcdns: \(error)", to: .standardError)
            throw ExitCode.failure
        }
    }
}
