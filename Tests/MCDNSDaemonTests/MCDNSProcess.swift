import DNSTestSupport
import Foundation

/// Runs the built `mcdns` binary (`.build/debug/mcdns`, found from this file's path) as a subprocess, as a user
/// would. `make test` runs `swift build` before `swift test`, so the binary is current.
struct MCDNSProcess {
    struct Result {
        let status: Int32
        let standardOutput: String
        let standardError: String
        var output: String { standardOutput + standardError }
    }

    static let packageRoot: String = {
        var components = URL(fileURLWithPath: #filePath).pathComponents
        components.removeLast(3)
        return components.joined(separator: "/").replacingOccurrences(of: "//", with: "/")
    }()

    static var binary: String { "\(packageRoot)/.build/debug/mcdns" }

    struct MissingBinary: Error, CustomStringConvertible {
        var description: String { "\(MCDNSProcess.binary) is missing: run `swift build` before `swift test`" }
    }

    /// Starts `mcdns` with `arguments` in the package root; the caller reads its pipes and waits.
    static func start(_ arguments: [String], blockedSignals: [Int32] = []) throws -> ChildProcess {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw MissingBinary() }
        return try ChildProcess(binary, arguments, currentDirectory: packageRoot, blockedSignals: blockedSignals)
    }

    /// Runs `mcdns` to completion (commands that finish on their own: check, help, a refused serve).
    static func run(_ arguments: [String]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw MissingBinary() }
        let output = try ProcessRunner.run(binary, arguments, timeout: .seconds(60), currentDirectory: packageRoot)
        return Result(status: output.status, standardOutput: output.stdout, standardError: output.stderr)
    }
}
