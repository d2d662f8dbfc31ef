import Foundation

/// What a finished (or killed) process left behind.
public struct ProcessOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// True when the process was killed because it ran past its timeout.
    public var timedOut: Bool
}

/// Runs short-lived tools (dig, kzonecheck, swift) with a hard timeout and captures their output.
public enum ProcessRunner {
    /// Directories searched after `PATH`: knotd and nsd live in /usr/sbin, which a test runner's PATH may lack.
    static let extraSearchPath = ["/usr/sbin", "/sbin", "/usr/local/sbin", "/usr/local/bin", "/usr/bin"]

    /// The absolute path of `tool`, or a `toolMissing` error naming the Debian `package` that provides it.
    public static func locate(_ tool: String, package: String) throws(TestSupportError) -> String {
        if tool.hasPrefix("/") {
            guard FileManager.default.isExecutableFile(atPath: tool) else {
                throw .toolMissing(tool, package: package)
            }
            return tool
        }
        let path = ProcessInfo.processInfo.environment["PATH"]?.split(separator: ":").map(String.init) ?? []
        for directory in path + extraSearchPath {
            let candidate = directory + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw .toolMissing(tool, package: package)
    }

    /// Runs `executable` with `arguments`, waits at most `timeout`, and returns its exit status and output.
    /// A process still running at the deadline is killed and reported with `timedOut == true`.
    public static func run(
        _ executable: String,
        _ arguments: [String],
        timeout: Duration = .seconds(10),
        currentDirectory: String? = nil
    ) throws -> ProcessOutput {
        let child: ChildProcess
        do {
            child = try ChildProcess(executable, arguments, currentDirectory: currentDirectory)
        } catch {
            throw TestSupportError.system("cannot run \(executable): \(error)")
        }
        // Both pipes are drained while the process runs: a tool that fills a pipe buffer would otherwise block.
        let collected = CollectedOutput()
        let readers = DispatchGroup()
        if let outHandle = child.standardOutput {
            DispatchQueue.global().async(group: readers) { collected.setOut(outHandle.readDataToEndOfFile()) }
        }
        if let errHandle = child.standardError {
            DispatchQueue.global().async(group: readers) { collected.setErr(errHandle.readDataToEndOfFile()) }
        }
        var timedOut = false
        if !child.waitForExit(timeout: timeout) {
            timedOut = true
            child.send(SIGKILL)
            child.waitUntilExit()
        }
        readers.wait()
        return ProcessOutput(
            status: child.terminationStatus ?? -1,
            stdout: collected.out,
            stderr: collected.err,
            timedOut: timedOut
        )
    }
}

/// Output gathered by the two reader threads.
private final class CollectedOutput: @unchecked Sendable {
    private let lock = NSLock()
    private var outData = Data()
    private var errData = Data()

    func setOut(_ data: Data) { lock.withLock { outData = data } }
    func setErr(_ data: Data) { lock.withLock { errData = data } }
    var out: String { lock.withLock { String(decoding: outData, as: UTF8.self) } }
    var err: String { lock.withLock { String(decoding: errData, as: UTF8.self) } }
}

extension Duration {
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .milliseconds(Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000))
    }

    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
