import ArgumentParser
import Foundation
import MCDNSDaemon

/// `mcdns clusters`: the members of a running daemon, their links and caches.
struct ClustersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clusters",
        abstract: "List the member clusters of a running mcdns serve, with their links.",
        usage: "mcdns clusters [-o <output>] [--admin <url>] [--token-file <file>]",
        discussion: """
            LINK is what the answers use: synced; stale, last-known targets with the degraded TTL; offline, \
            targets withdrawn; ",drained" follows it while the cluster is drained (mcdns drain or \
            clusters[].drain), its targets out of the answers. LAST SYNC is when the member's data was last current.

            Exit codes: 0 listed, 64 bad arguments, 3 the admin API is unreachable, 4 the token was refused.

            Examples:
              mcdns clusters
              mcdns clusters --output json
            """
    )

    @Option(name: .shortAndLong, help: "How to print: table, json or yaml.")
    var output: OutputFormat = .table

    @OptionGroup var admin: AdminOptions

    func run() async throws {
        do throws(CommandFailure) {
            let view = try await admin.client().fetch(AdminViews.Clusters.self, "/v1/clusters")
            try Render.print(view, as: output) { table(view) }
        } catch {
            throw error.report()
        }
    }

    func table(_ view: AdminViews.Clusters) -> String {
        var rows = [["NAME", "SOURCE", "LINK", "LAST SYNC", "LOCALITY", "OBJECTS", "SERVICES", "CONDITIONS"]]
        let now = Date().timeIntervalSince1970
        for cluster in view.clusters {
            let age = cluster.lastSync.map { Render.age(now - $0) + " ago" } ?? "never"
            let objects = cluster.objects.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            rows.append([
                cluster.name, cluster.sourceKind,
                cluster.link + (cluster.drained == true ? ",drained" : ""), age, "\(cluster.region)/\(cluster.zone)",
                objects.joined(separator: " "), "\(cluster.services)",
                cluster.drained == true
                    ? "drained by \(cluster.drainedBy ?? "?")" + (cluster.drainReason.map { ": \($0)" } ?? "")
                    : cluster.conditions.last ?? "",
            ])
        }
        var text = Render.table(rows)
        if let host = view.host { text += "\n\n" + Self.hostBlock(host) }
        return text
    }

    /// The host cluster: this replica's part in status writing and, when records cannot be written, why and what
    /// to do.
    static func hostBlock(_ host: HostStatus) -> String {
        var lines = [
            "host: \(host.identity), \(host.leader ? "leader (writes ServiceDNSRecord status)" : "not the leader"), "
                + "records \(host.recordsSynced ? "synced" : "not synced yet"), \(host.statusWrites) status writes, "
                + "\(host.created) created, \(host.deleted) deleted"
        ]
        for problem in host.problems {
            lines.append(
                "  cannot write \(problem.services) record(s) (\(problem.cause.rawValue), e.g. \(problem.example)): "
                    + "\(problem.message); \(problem.advice)"
            )
        }
        return lines.joined(separator: "\n")
    }
}
