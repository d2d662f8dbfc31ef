public import ArgumentParser
import Dispatch

/// The `mcdns` root command: only dispatches to its subcommands (DESIGN §3).
public struct MCDNSCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "mcdns",
        abstract: "Multi-cluster service discovery and authoritative DNS.",
        discussion: """
            mcdns serves DNS for the services of several Kubernetes clusters, and the static zones in its zones \
            directory, from answers compiled ahead of time.

            Examples:
              mcdns serve --config examples/demo/mcdns.yaml
              mcdns check --config /etc/mcdns/mcdns.yaml
              mcdns query web.shop.acme.svc.example.com --as-cluster east-1
              mcdns records --output yaml
              mcdns clusters
              mcdns explain web.shop.acme.svc.example.com --as-cluster east-1
              mcdns drain east-1 --reason "node upgrade"

            Exit codes: 0 success; 1 the answer is no (check found problems, serve could not start); 64 bad \
            arguments; 3 the admin API or the DNS server is unreachable; 4 the admin API refused the token; 5 not \
            found (no record for that service).
            """,
        subcommands: [ServeCommand.self, CheckCommand.self, AgentCommand.self, QueryCommand.self, RecordsCommand.self,
                      ClustersCommand.self, ExplainCommand.self, DrainCommand.self, UndrainCommand.self]
    )

    public init() {}

    /// The process entry point, synchronous on purpose.
    ///
    /// An async top-level `main` parks the main thread in `dispatchMain()`, whose `sigsuspend` loop valgrind
    /// 3.19 cannot follow, so `mcdns serve` could not be measured under callgrind (bench/dns-qps.sh
    /// --callgrind). Our commands' `run()` are not main-actor bound, so the parsed command runs on a detached
    /// task while the main thread waits on a semaphore; argument-parser's own `main()` is not used because it is
    /// main-actor isolated and would deadlock behind that wait.
    public static func start(arguments: [String]? = nil) -> Never {
        let command: any ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            exit(withError: error)
        }
        guard let asyncCommand = command as? any AsyncParsableCommand else {
            do {
                var synchronous = command
                try synchronous.run()
                exit()
            } catch {
                exit(withError: error)
            }
        }
        let outcome = CommandOutcome(asyncCommand)
        let finished = DispatchSemaphore(value: 0)
        Task.detached {
            await outcome.run()
            finished.signal()
        }
        finished.wait()
        if let failure = outcome.failure { exit(withError: failure) }
        exit()
    }
}
