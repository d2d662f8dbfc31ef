import Foundation

/// A Dockerfile read into its stages and instructions: enough to check what the image is without Docker.
/// Continuation lines are joined, comments and parser directives dropped; arguments stay as written.
struct Dockerfile {
    struct Instruction {
        let keyword: String
        let arguments: String
        let line: Int
    }

    struct Stage {
        /// The FROM image, as written (build arguments not expanded).
        let image: String
        let name: String?
        var instructions: [Instruction]

        func all(_ keyword: String) -> [Instruction] { instructions.filter { $0.keyword == keyword } }
    }

    let arguments: [String: String]
    let stages: [Stage]

    init(_ text: String) throws(DeployTestError) {
        var arguments: [String: String] = [:]
        var stages: [Stage] = []
        var pending = ""
        var pendingLine = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if pending.isEmpty && (line.isEmpty || line.hasPrefix("#")) { continue }
            if !pending.isEmpty && line.hasPrefix("#") { continue }  // comments inside a continued instruction
            if pending.isEmpty { pendingLine = index + 1 }
            if line.hasSuffix("\\") {
                pending += line.dropLast().trimmingCharacters(in: .whitespaces) + " "
                continue
            }
            let full = pending + line
            pending = ""
            let keyword = String(full.prefix { !$0.isWhitespace }).uppercased()
            let rest = full.dropFirst(keyword.count).trimmingCharacters(in: .whitespaces)
            let instruction = Instruction(keyword: keyword, arguments: rest, line: pendingLine)
            if keyword == "FROM" {
                let words = rest.split(separator: " ").map(String.init)
                let name = words.count == 3 && words[1].uppercased() == "AS" ? words[2] : nil
                guard let image = words.first, words.count == 1 || name != nil else {
                    throw DeployTestError("line \(pendingLine): cannot read FROM \(rest)")
                }
                stages.append(Stage(image: image, name: name, instructions: []))
            } else if stages.isEmpty {
                guard keyword == "ARG" else { throw DeployTestError("line \(pendingLine): \(keyword) before FROM") }
                let parts = rest.split(separator: "=", maxSplits: 1).map(String.init)
                arguments[parts[0]] = parts.count == 2 ? parts[1] : ""
            } else {
                stages[stages.count - 1].instructions.append(instruction)
            }
        }
        guard pending.isEmpty else { throw DeployTestError("the Dockerfile ends inside a continued line") }
        self.arguments = arguments
        self.stages = stages
    }

    /// `image` with the global build arguments substituted (`swift:${SWIFT_VERSION}-bookworm`).
    func expand(_ text: String) -> String {
        var result = text
        for (name, value) in arguments {
            result = result.replacingOccurrences(of: "${\(name)}", with: value)
                .replacingOccurrences(of: "$\(name)", with: value)
        }
        return result
    }
}
