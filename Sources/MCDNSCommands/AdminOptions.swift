import ArgumentParser
import Foundation

/// The options every admin API command shares.
struct AdminOptions: ParsableArguments {
    @Option(
        name: .long,
        help: "The admin API of `mcdns serve` (its listen.admin); default \(AdminURL.defaultText), or $MCDNS_ADMIN."
    )
    var admin: String?

    @Option(
        name: .long,
        help: "The admin API's bearer token file, for a daemon that sets admin.tokenFile (or set $MCDNS_ADMIN_TOKEN)."
    )
    var tokenFile: String?

    @Option(name: .long, help: "Admin API timeout in seconds, 1-3600.")
    var timeout: Int = 5

    func validate() throws {
        // A larger value would overflow the nanoseconds of NIO's TimeAmount.
        guard (1...3600).contains(timeout) else { throw ValidationError("--timeout: 1 to 3600 seconds") }
    }

    func client() throws(CommandFailure) -> AdminClient {
        let environment = ProcessInfo.processInfo.environment
        let url = try AdminURL(admin ?? environment["MCDNS_ADMIN"] ?? AdminURL.defaultText)
        var token = environment["MCDNS_ADMIN_TOKEN"]
        if let tokenFile {
            do {
                token = try String(contentsOfFile: tokenFile, encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            } catch {
                throw .usage("--token-file \(tokenFile): cannot read it (\(error.localizedDescription))")
            }
        }
        return AdminClient(base: url, token: token, timeout: .seconds(Int64(min(max(1, timeout), 3600))))
    }
}

/// `--output`: how the admin commands print. `wide` is the table with more columns where a command has them.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, wide, json, yaml
}
