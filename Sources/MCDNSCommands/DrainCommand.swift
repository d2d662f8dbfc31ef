import ArgumentParser
import MCDNSDaemon

/// `mcdns drain`: takes a member cluster out of every answer, through the admin API.
struct DrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drain",
        abstract: "Take a member cluster out of every answer.",
        usage: "mcdns drain <cluster> [--reason <text>] [<options>]",
        discussion: """
            The cluster's targets leave the global, region, zone and clusterset.local answers and the SRV \
            records; its region and zone names fall back outward as for an unhealthy cluster. Its watches and \
            data are untouched, so `mcdns undrain` brings it back at once. When every healthy cluster of a \
            service is drained, that service answers as if none were (mcdns explain and a warning say so).

            The drain lasts until `mcdns undrain` or a restart of mcdns serve; for a drain that outlasts the \
            process, set `drain: true` on the cluster in the configuration and reload (SIGHUP).

            Exit codes: 0 drained, 5 no such cluster, 3 admin API unreachable, 4 token refused, 64 bad \
            arguments.

            Examples:
              mcdns drain east-1 --reason "node upgrade"
              mcdns clusters
            """
    )

    @Argument(help: "The member cluster to drain (a name from clusters[]).")
    var cluster: String

    @Option(name: .long, help: "Why, shown in mcdns clusters, explain and the records' Drained condition.")
    var reason: String?

    @OptionGroup var admin: AdminOptions

    func run() async throws {
        do throws(CommandFailure) {
            var path = "/v1/clusters/\(RecordsCommand.escape(cluster))/drain"
            if let reason { path += "?reason=\(RecordsCommand.escape(reason))" }
            let result = try await admin.client().fetch(AdminViews.Drain.self, path, method: .POST)
            Output.line(result.message)
        } catch {
            throw error.report()
        }
    }
}

/// `mcdns undrain`: ends a drain made with `mcdns drain`.
struct UndrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "undrain",
        abstract: "Bring a drained member cluster back into the answers.",
        usage: "mcdns undrain <cluster> [<options>]",
        discussion: """
            Ends the drain `mcdns drain` made; the cluster's healthy targets answer again within the usual \
            propagation time. A cluster drained by the configuration (clusters[].drain: true) is refused: remove \
            that line and reload (SIGHUP).

            Exit codes: 0 undrained (or it was not drained), 5 no such cluster, 64 drained by the configuration, \
            3 admin API unreachable, 4 token refused.

            Examples:
              mcdns undrain east-1
            """
    )

    @Argument(help: "The member cluster to undrain.")
    var cluster: String

    @OptionGroup var admin: AdminOptions

    func run() async throws {
        do throws(CommandFailure) {
            let path = "/v1/clusters/\(RecordsCommand.escape(cluster))/undrain"
            let result = try await admin.client().fetch(AdminViews.Drain.self, path, method: .POST)
            Output.line(result.message)
        } catch {
            throw error.report()
        }
    }
}
