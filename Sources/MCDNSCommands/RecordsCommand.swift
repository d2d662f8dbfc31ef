import ArgumentParser
import Foundation
import MCDNSDaemon

/// `mcdns records`: the merged service records a running daemon serves.
struct RecordsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "records",
        abstract: "List the merged service records of a running mcdns serve (admin API).",
        usage: "mcdns records [--namespace <namespace> [--name <name>]] [<options>]",
        discussion: """
            One line per service: whether it is ready, the clusters whose targets the answers use (past three: the \
            first two and how many more), its traffic policy's strategy (nearest, weighted, failover; weighted/1 with answers: 1), its ports, and NOTES only when something is wrong (not ready, stale or \
            offline members, a conflict between clusters, names that could not be served). --output wide adds the \
            kind, the TTL, the regions and zones of the serving clusters, and the number of names. --output json or \
            yaml prints everything the admin API knows (spec, status per cluster, conditions, problems).

            Exit codes: 0 listed, 64 bad arguments, 3 admin API unreachable, 4 token refused, 5 no such record.

            Examples:
              mcdns records
              mcdns records --namespace shop --output yaml
              mcdns records -o wide
              mcdns records --admin http://10.0.0.5:9253 --token-file admin.token
            """
    )

    @Option(name: .long, help: "Only services of this namespace.")
    var namespace: String?

    @Option(name: .long, help: "Only the service of this name (with --namespace).")
    var name: String?

    @Option(name: .shortAndLong, help: "How to print: wide is the table with more columns.")
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
        let wide = output == .wide
        var header = ["NAMESPACE", "NAME", "READY", "CLUSTERS", "STRATEGY"]
        if wide { header += ["KIND", "TTL", "REGIONS", "ZONES", "NAMES"] }
        header += ["PORTS", "NOTES"]
        var rows = [header]
        for record in view.records {
            let serving = record.serving ?? record.status.dns.filter { $0.readyEndpoints > 0 }.map(\.cluster.rawValue)
            var row = [
                record.namespace, record.name,
                (record.status.conditions.first { $0.type == "Ready" }?.status ?? .unknown).rawValue,
                Self.clusters(serving, all: wide),
                record.spec.trafficPolicy?.summary ?? "nearest",
            ]
            if wide {
                let served = record.status.dns.filter { serving.contains($0.cluster.rawValue) }
                row += [
                    Self.kind(record), record.ttl.map(String.init) ?? record.spec.recordTTL.map(String.init) ?? "-",
                    Self.distinct(served.map(\.region)), Self.distinct(served.flatMap(\.zones)),
                    "\(record.names.count)",
                ]
            }
            let ports = record.status.ports.map { ($0.name.map { "\($0):" } ?? "") + "\($0.port)/\($0.protocol)" }
            row += [ports.isEmpty ? "-" : ports.joined(separator: ","), Self.notes(record).joined(separator: "; ")]
            rows.append(row)
        }
        var text = Render.table(rows)
        text +=
            "\nserial \(view.serial)"
            + (view.warmStart ? " (warm start: serving saved records until members resync)" : "")
        return text
    }

    /// Up to three names in full; past that the first two and how many more (`east-1,east-2 +3`).
    static func clusters(_ names: [String], all: Bool) -> String {
        if names.isEmpty { return "<none>" }
        if all || names.count <= 3 { return names.joined(separator: ",") }
        return names.prefix(2).joined(separator: ",") + " +\(names.count - 2)"
    }

    static func kind(_ record: AdminViews.Record) -> String {
        if record.status.externalTarget != nil { return "external" }
        if record.status.headless { return "headless" }
        return record.status.dns.contains { !$0.loadBalancer.isEmpty } ? "loadBalancer" : "clusterIP"
    }

    static func distinct(_ values: [String]) -> String {
        let unique = values.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        return unique.isEmpty ? "-" : unique.joined(separator: ",")
    }

    /// What is wrong with a record, in words; nothing for a healthy one. The Ready condition shows only when it
    /// does not hold; stale and offline members are named from the serving view; the Degraded condition's own
    /// member parts are left out since those names say the same.
    static func notes(_ record: AdminViews.Record) -> [String] {
        var notes: [String] = []
        if record.restored { notes.append("restored from the state file, awaiting resync") }
        let conditions = record.status.conditions
        if let ready = conditions.first(where: { $0.type == "Ready" }), ready.status != .true {
            notes.append("not ready: " + (ready.message.isEmpty ? ready.reason : ready.message))
        }
        let stale = record.stale ?? record.status.dns.filter(\.stale).map(\.cluster.rawValue)
        if !stale.isEmpty { notes.append("stale: \(stale.joined(separator: ",")) (last-known targets)") }
        if let offline = record.offline, !offline.isEmpty {
            notes.append("offline: \(offline.joined(separator: ",")) (targets withdrawn)")
        }
        for condition in conditions where condition.status == .true {
            switch condition.type {
            case "Conflict":
                notes.append("conflict: " + condition.message)
            case "Degraded":
                let parts = condition.message.components(separatedBy: "; ").filter { part in
                    !(condition.reason == "MemberStale" || condition.reason == "MemberOffline"
                        || part.hasPrefix("MemberStale: ") || part.hasPrefix("MemberOffline: "))
                }
                notes += parts.map { "degraded: " + $0 }
            default:
                break
            }
        }
        notes += record.problems
        return notes
    }
}
