import Foundation

/// A long-running child process (a DNS server) whose stdout and stderr go to a log file.
///
/// A log file, not a pipe: nobody drains a server's output while the test runs, and a full pipe would stall it.
public final class BackgroundProcess: @unchecked Sendable {
    public let executable: String
    public let arguments: [String]
    public let logPath: String
    private let child: ChildProcess

    public init(
        _ executable: String,
        _ arguments: [String],
        logPath: String,
        environment: [String: String]? = nil
    )
        throws
    {
        self.executable = executable
        self.arguments = arguments
        self.logPath = logPath
        child = try ChildProcess(
            executable,
            arguments,
            environment: environment,
            standardOutput: .file(logPath),
            standardError: .file(logPath)
        )
    }

    public var pid: Int32 { child.pid }

    public var isRunning: Bool { child.isRunning }

    /// The exit status, once the process has exited.
    public var terminationStatus: Int32? { child.terminationStatus }

    /// Everything the process has written so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log at \(logPath))"
    }

    /// Sends `signal` and waits up to `timeout` for the exit; returns whether the process exited.
    @discardableResult
    public func signal(_ signal: Int32, waitingUpTo timeout: Duration) -> Bool {
        guard isRunning else { return true }
        child.send(signal)
        return waitForExit(timeout: timeout)
    }

    /// Waits up to `timeout` for the process to exit by itself.
    public func waitForExit(timeout: Duration) -> Bool {
        child.waitForExit(timeout: timeout)
    }

    /// SIGTERM, then SIGKILL if the process is still there after `grace`.
    public func stop(grace: Duration = .seconds(5)) {
        if !signal(SIGTERM, waitingUpTo: grace) {
            signal(SIGKILL, waitingUpTo: .seconds(5))
        }
    }

    deinit {
        if isRunning { stop(grace: .seconds(2)) }
    }
}
