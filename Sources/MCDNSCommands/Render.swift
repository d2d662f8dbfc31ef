import Foundation
import Yams

/// Table, JSON and YAML printing for the admin commands.
enum Render {
    static func print<T: Encodable>(_ value: T, as format: OutputFormat, table: () -> String) throws(CommandFailure) {
        switch format {
        case .table, .wide:
            Output.line(table())
        case .json:
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
            do {
                Output.line(String(decoding: try encoder.encode(value), as: UTF8.self))
            } catch {
                throw .failed("cannot print JSON: \(error)")
            }
        case .yaml:
            let encoder = YAMLEncoder()
            encoder.options.sortKeys = true
            do {
                var text = try encoder.encode(value)
                while text.hasSuffix("\n") { text.removeLast() }
                Output.line(text)
            } catch {
                throw .failed("cannot print YAML: \(error)")
            }
        }
    }

    /// Left-aligned columns separated by three spaces, as kubectl prints.
    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: first.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        return rows.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "   ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }

    static func age(_ seconds: Double) -> String {
        // From the admin API's JSON: a number too large for Int (or not a number) must not trap.
        guard seconds.isFinite, seconds < 1e15 else { return "-" }
        let s = max(0, Int(seconds))
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        if s < 172_800 { return "\(s / 3600)h" }
        return "\(s / 86400)d"
    }
}
