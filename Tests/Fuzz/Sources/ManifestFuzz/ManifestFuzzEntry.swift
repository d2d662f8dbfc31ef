import ClusterController
import KubeClient

/// The manifest parser (`ManifestParser.parse`): YAML documents from a member's manifest directory, read with Yams
/// and decoded into the same slim objects the API client produces.
///
/// Properties: text that is not a usable manifest is a typed `ManifestError` with a line inside the text (or
/// none), never a trap; a parsed document places every object it ignores at a line inside the text.
enum ManifestFuzzEntry {
    static func check(_ input: [UInt8]) -> String? {
        let text = String(decoding: input, as: UTF8.self)
        let lines = yamlLineCount(text)
        do {
            let document = try ManifestParser.parse(text, file: "fuzz.yaml")
            for ignored in document.ignored {
                if let line = ignored.line, line < 1 || line > lines + 1 {
                    return "ignored object at line \(line) of a \(lines)-line text: \(ignored)"
                }
            }
        } catch {
            if let line = error.line, line < 1 || line > lines + 1 {
                return "error at line \(line) of a \(lines)-line text: \(error)"
            }
        }
        return nil
    }

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
