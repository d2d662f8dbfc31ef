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
              mcdns query web.shop.acme.svc.example.com --as-cluster east-1
              mcdns records --output yaml
              mcdns clusters
              mcdns explain web.shop.acme.svc.example.com --as-cluster east-1

            Exit codes: 0 success; 1 the answer is no (check found problems, serve could not start); 2 bad
            arguments; 3 the admin API or DNS server is unreachable; 4 the admin API refused the token; 5 not
            found.
            """,
        subcommands: [ServeCommand.self, CheckCommand.self, QueryCommand.self, RecordsCommand.self,
                      ClustersCommand.self, ExplainCommand.self]
    )

    public init() {}

    /// The process entry point. `main()` called from top-level code would pick `ParsableCommand`'s synchronous
    /// overload, which refuses an async command tree; from an async function the async overload is chosen.
    public static func start() async {
        await main(nil)
    }
}
