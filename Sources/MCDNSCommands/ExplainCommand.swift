import ArgumentParser
import DNSAnswer
import Foundation
import MCDNSDaemon

/// `mcdns explain`: why a name answers the way it does.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain an answer: candidate clusters, their health, the fallback step, the TTL, the serial.",
        usage: "mcdns explain <name> [<type>] [--as-cluster <cluster>] [<options>]",
        discussion: """
            Asks the running daemon (admin API), which resolves the name with the same rules and contents its \
            answer table was compiled from. --as-cluster gives the answer a requester in that cluster gets (as \
            the EDNS option or a requester subnet would identify it).

            Exit codes: 0 explained, 64 bad arguments or unknown cluster, 3 admin API unreachable, 4 token refused.

            Examples:
              mcdns explain web.shop.acme.svc.example.com
              mcdns explain web.shop.acme.svc.example.com --as-cluster east-1
              mcdns explain web.shop.acme.svc.us-east-1b.us-east-1.example.com AAAA -o json
            """
    )

    @Argument(help: "The DNS name.")
    var name: String

    @Argument(help: "The record type.")
    var type: String = "A"

    @Option(name: .long, help: "Explain the answer a requester in this cluster gets.")
    var asCluster: String?

    @Option(name: .shortAndLong, help: "How to print: table (text), json or yaml.")
    var output: OutputFormat = .table

    @OptionGroup var admin: AdminOptions

    func run() async throws {
        do throws(CommandFailure) {
            var path = "/v1/explain?name=\(RecordsCommand.escape(name))&type=\(RecordsCommand.escape(type))"
            if let asCluster { path += "&cluster=\(RecordsCommand.escape(asCluster))" }
            let explanation = try await admin.client().fetch(Explanation.self, path)
            try Render.print(explanation, as: output) { text(explanation) }
        } catch {
            throw error.report()
        }
    }

    func text(_ e: Explanation) -> String {
        var lines: [String] = []
        lines.append(
            "\(e.name) \(e.type)" + (e.requester.map { " asked from cluster \($0)" } ?? " (unknown requester)")
        )
        lines.append("  zone:       \(e.zone ?? "none (REFUSED)")")
        lines.append("  service:    \(e.service ?? "none") (\(e.kind) name)")
        lines.append("  result:     \(e.resolution), rcode \(e.rcode.rawValue)" + (e.degraded ? ", degraded" : ""))
        lines.append("  step:       \(e.step)")
        if let strategy = e.strategy { lines.append("  strategy:   \(strategy)" + (e.policy.map { ": \($0)" } ?? "")) }
        lines.append("  ttl:        \(e.ttl.map(String.init) ?? "-")")
        lines.append("  serial:     \(e.serial)")
        if !e.candidates.isEmpty {
            lines.append("  candidates:")
            var rows = [["CLUSTER", "REGION/ZONE", "LINK", "READY", "HEALTHY", "LEVEL", "TARGETS", "WHY"]]
            for c in e.candidates {
                rows.append([
                    c.cluster, "\(c.region)/\(c.zone)", c.link, "\(c.readyEndpoints)", c.healthy ? "yes" : "no",
                    c.level ?? "-", c.targets.joined(separator: ","), c.reason,
                ])
            }
            lines += Render.table(rows).split(separator: "\n").map { "    " + $0 }
        }
        lines.append("  answer:")
        lines += (e.answer.isEmpty ? ["(empty)"] : e.answer).map { "    " + $0 }
        if !e.authority.isEmpty {
            lines.append("  authority:")
            lines += e.authority.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
