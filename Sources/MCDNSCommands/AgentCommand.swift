import ArgumentParser
import Logging
import MCDNSDaemon

/// `mcdns agent`: runs in a member cluster and dials the host's tunnel listener (DESIGN §6).
struct AgentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "agent",
        abstract: "Run in a member cluster: dial the host over the reverse tunnel and serve it this cluster's API.",
        usage: "mcdns agent --host <url> --cluster <name> --token-file <file> [<options>]",
        discussion: """
            Dials wss://HOST:PORT/tunnel/v1 with TLS, trusting only the CA in --ca-file for the host's \
            certificate, and authenticates with the bearer token in --token-file (re-read at every dial; the host \
            stores only its SHA-256). Then forwards the host's read-only requests (discovery; list and watch of \
            services, endpointslices, nodes, serviceexports) to this cluster's API server with this cluster's own \
            credentials: in-cluster by default, or --kubeconfig. Anything else is refused with 403. Reconnects \
            forever with a jittered backoff between 1 and 30 seconds.

            Examples:
              mcdns agent --host wss://mcdns.example.com:8443 --cluster east-2 \\
                --token-file /var/run/mcdns/token --ca-file /var/run/mcdns/ca.pem
              mcdns agent --host wss://127.0.0.1:8443 --cluster dev --token-file token \\
                --ca-file ca.pem --kubeconfig dev.kubeconfig
            """
    )

    @Option(name: .long, help: "The host's tunnel listener, wss://HOST:PORT.")
    var host: String

    @Option(name: .long, help: "This member's cluster name (must match the host's configuration and the credential).")
    var cluster: String

    @Option(name: .long, help: "File holding the bearer token; re-read at every dial.")
    var tokenFile: String

    @Option(name: .long, help: "The CA (PEM) of the host's certificate, the only one trusted.")
    var caFile: String = "/var/run/mcdns/tunnel-ca.pem"

    @Option(name: .long, help: "Kubeconfig for this cluster's API server (default: in-cluster service account).")
    var kubeconfig: String?

    @Option(name: .long, help: "A context of --kubeconfig; its current one by default.")
    var context: String?

    @Option(
        name: .long,
        help: "The least severe level of the log lines printed."
    )
    var logLevel: LogLevel = .info

    func run() async throws {
        let logger = MCDNSDaemon.bootstrapLogging(level: logLevel.level)
        do {
            try await MemberAgent.run(
                .init(
                    host: host,
                    cluster: cluster,
                    tokenFile: tokenFile,
                    caFile: caFile,
                    kubeconfig: kubeconfig,
                    context: context
                ),
                logger: logger
            )
        } catch {
            Output.line("mcdns agent: \(error)", to: .standardError)
            throw ExitCode.failure
        }
    }
}
