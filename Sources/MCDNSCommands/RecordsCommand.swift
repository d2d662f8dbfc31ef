import ArgumentParser
import Foundation
import MCDNSDaemon

/// `mcdns records`: the merged service records a running daemon serves.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "List the merged service records of a running mcdns serve (admin API).",
        discussion: """
            One line per service: the clusters that serve it (healthy/all), how its targets are chosen, the DNS
            names it owns. --output json or yaml prints everything the admin API knows (spec, status per cluster,
            conditions, problems).

            Exit codes: 0 listed, 64 bad arguments, 3 admin API unreachable, 4 token refused, 5 no such record.

            Examples:
              mcdns records
              mcdns records --namespace shop --output yaml
              mcdns records --admin http://10.0.0.5:9253 --token-file /etc/mcdns/admin.token
            """
    )

    @Option(name: .long, help: "Only services of this namespace.")
    var namespace: String?

    @Option(name: .long, help: "Only the service of this name (with --namespace).")
    var name: String?

    @Option(name: .shortAndLong, help: "table, json or yaml.")
    var output: OutputFormat = .table

    @OptionGroup var admin: AdminOptions

    func validate() throws {
        if name != nil && namespace == nil { throw ValidationError("--name needs --namespace") }
    }

    func run() async throws {
        do throws(CommandFailure) {
            let client = try admin.client()
            let path: String
            if let namespace, let name {
                path = "/v1/records/\(Self.escape(namespace))/\(Self.escape(name))"
            } else if let namespace {
                path = "/v1/records?namespace=\(Self.escape(namespace))"
            } else {
                path = "/v1/records"
            }
            let view = try await client.fetch(AdminViews.Records.self, path)
            try Render.print(view, as: output) { table(view) }
        } catch {
            throw error.report()
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?&=#"))
        ) ?? text
    }

    func table(_ view: AdminViews.Records) -> String {
        var rows = [["NAMESPACE", "NAME", "CLUSTERS", "KIND", "PORTS", "NAMES", "NOTES"]]
        for record in view.records {
            let healthy = record.status.dns.filter { $0.readyEndpoints > 0 && !$0.stale }.count
            let kind =
                record.status.externalTarget != nil
                ? "external"
                : record.status.headless
                    ? "headless"
                    : record.status.dns.contains { !$0.loadBalancer.isEmpty } ? "loadBalancer" : "clusterIP"
            let ports = record.status.ports.map { ($0.name.map { "\($0):" } ?? "") + "\($0.port)/\($0.protocol)" }
            var notes: [String] = []
            if record.restored { notes.append("restored (awaiting resync)") }
            if !record.problems.isEmpty { notes.append("\(record.problems.count) problem(s)") }
            if !record.status.conditions.isEmpty { notes.append("\(record.status.conditions.count) condition(s)") }
            rows.append([
                record.namespace, record.name, "\(healthy)/\(record.status.dns.count)", kind,
                ports.joined(separator: ","), "\(record.names.count)", notes.joined(separator: "; "),
            ])
        }
        var text = Render.table(rows)
        text +=
            "\nserial \(view.serial)"
            + (view.warmStart ? " (warm start: serving saved records until members resync)" : "")
        return text
    }
}
