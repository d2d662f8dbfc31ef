import ArgumentParser
@testable import MCDNSCommands
import Testing

/// Issue 18: every command's help reads well in an 80-column terminal. The texts carry no hard line breaks inside
/// paragraphs, so argument-parser wraps them; a paragraph broken by hand (or a help text that ends just past a
/// line) leaves an orphan line of one or two words, and a usage line that argument-parser cannot wrap overflows.
@Suite struct HelpLayoutTests {
    static let commands: [(String, any ParsableCommand.Type)] = [
        ("mcdns", MCDNSCommand.self), ("serve", ServeCommand.self), ("check", CheckCommand.self),
        ("agent", AgentCommand.self), ("query", QueryCommand.self), ("records", RecordsCommand.self),
        ("clusters", ClustersCommand.self), ("explain", ExplainCommand.self),
        ("drain", DrainCommand.self), ("undrain", UndrainCommand.self),
    ]

    /// Lines that are meant to be short: section headers, option names on their own line, example commands.
    static func isShortByDesign(_ line: Substring) -> Bool {
        let text = line.drop { $0 == " " }
        return text.hasSuffix(":") || text.hasPrefix("-") || text.hasPrefix("mcdns ") || text == "mcdns"
    }

    /// The lines of `help` that break the layout at `width` columns.
    static func badLines(_ help: String, width: Int) -> [String] {
        help.split(separator: "\n").compactMap { line in
            if line.count > width { return "over \(width) columns: \(line)" }
            let words = line.split(separator: " ").count
            if words > 0 && words <= 2 && !isShortByDesign(line) { return "orphan line: \(line)" }
            return nil
        }
    }

    @Test(arguments: commands.map(\.0))
    func helpFitsEightyColumns(command name: String) {
        let command = Self.commands.first { $0.0 == name }!.1
        let help = MCDNSCommand.helpMessage(for: command, columns: 80)
        #expect(help.contains("USAGE: mcdns"))
        #expect(Self.badLines(help, width: 80) == [], "\(help)")
    }

    @Test func theCheckFindsWhatItLooksFor() {
        let text = "Loads the configuration and every zone file of its zonesDir, then\nserving.\n"
        let bad = Self.badLines(text, width: 80)
        #expect(bad == ["orphan line: serving."])
        #expect(Self.badLines(String(repeating: "word ", count: 17), width: 80).count == 1)
        #expect(Self.badLines("OPTIONS:\n  --token-file <file>\n  mcdns clusters\n", width: 80) == [])
    }

    @Test func serveNoLongerPromisesWatchersForLater() {
        let help = MCDNSCommand.helpMessage(for: ServeCommand.self, columns: 80)
        #expect(!help.contains("later releases"))
        #expect(help.contains("member watchers"))
    }
}
