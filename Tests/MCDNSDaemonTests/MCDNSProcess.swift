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
    static func start(_ arguments: [String]) throws -> (Process, stdout: Pipe, stderr: Pipe) {
        guard FileManager.default.isExecutableFile(atPath: binary) else { throw MissingBinary() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: packageRoot)
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        return (process, out, err)
    }

    /// Runs `mcdns` to completion (commands that finish on their own: check, help, a refused serve).
    static func run(_ arguments: [String]) throws -> Result {
        let (process, out, err) = try start(arguments)
        // Read both pipes before waiting, so a chatty child never blocks on a full pipe.
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus,
            standardOutput: String(decoding: outData, as: UTF8.self),
            standardError: String(decoding: errData, as: UTF8.self)
        )
    }
}
