public import ArgumentParser

/// The `mcdns` root command: only dispatches to its subcommands (DESIGN §3).
public struct MCDNSCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mcdns",
        abstract: "Multi-cluster service discovery and authoritative DNS.",
        discussion: """
            mcdns serves DNS for the services of several Kubernetes clusters, and the static zones in its zones
            directory, from answers compiled ahead of time.

            Examples:
              mcdns serve --config examples/demo/mcdns.yaml
              mcdns check --config /etc/mcdns/mcdns.yaml
              dig @127.0.0.1 -p 5300 example.com SOA
            """,
        subcommands: [ServeCommand.self, CheckCommand.self, AgentCommand.self]
    )

    public init() {}

    /// The process entry point. `main()` called from top-level code would pick `ParsableCommand`'s synchronous
    /// overload, which refuses an async command tree; from an async function the async overload is chosen.
    public static func start() async {
        await main(nil)
    }
}
