import Foundation
import MCDNSDaemon

/// The configuration loader (`Configuration.parse(yaml:file:)`, what `load(file:)` runs on the file's text):
/// YAML through Yams, then `ConfigurationReader`'s typed fields, durations, CIDRs, addresses and cross-checks.
///
/// Properties: a bad file is a typed `ConfigurationError` listing at least one problem, each at a line inside the
/// text (or none), never a trap.
enum ConfigFuzzEntry {
    static func check(_ input: [UInt8]) -> String? {
        let text = String(decoding: input, as: UTF8.self)
        do {
            _ = try Configuration.parse(yaml: text, file: file)
        } catch {
            guard !error.errors.isEmpty else { return "a refused configuration with no problem listed" }
            let lines = yamlLineCount(text)
            for problem in error.errors {
                if let line = problem.line, line < 1 || line > lines + 1 {
                    return "problem at line \(line) of a \(lines)-line text: \(problem)"
                }
            }
        }
        return nil
    }

    /// Where the text is loaded from: a scratch tree laid out as the repository is around examples/demo/mcdns.yaml
    /// (../../zones, members/NAME), so the examples load whole and the fuzzer starts from a valid file. Loading
    /// checks that the directories a file names exist.
    static let file: String = {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("mcdns-fuzz-config").path
        for directory in [
            "zones", "examples/demo/members/east-1", "examples/demo/members/east-2", "examples/demo/members/west-1",
        ] {
            try? FileManager.default.createDirectory(atPath: "\(root)/\(directory)", withIntermediateDirectories: true)
        }
        return "\(root)/examples/demo/mcdns.yaml"
    }()

    /// The lines of `text` as libyaml counts them: a line ends at LF, CR, CR LF, NEL, LS or PS. An error at the
    /// end of a text without a final line break is on the line after its last (libyaml closes the stream there).
    static func yamlLineCount(_ text: String) -> Int {
        var count = 1
        var previous: Unicode.Scalar? = nil
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": if previous != "\r" { count += 1 }
            case "\r", "\u{85}", "\u{2028}", "\u{2029}": count += 1
            default: break
            }
            previous = scalar
        }
        return count
    }
}
