import Foundation

/// A long-running child process (a DNS server) whose stdout and stderr go to a log file.
///
/// A log file, not a pipe: nobody drains a server's output while the test runs, and a full pipe would stall it.
public final class BackgroundProcess: @unchecked Sendable {
    public let executable: String
    public let arguments: [String]
    public let logPath: String
    private let process = Process()
    private let exit = ExitState()

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
        guard FileManager.default.createFile(atPath: logPath, contents: nil) else {
            throw TestSupportError.system("cannot create log file \(logPath)")
        }
        guard let log = FileHandle(forWritingAtPath: logPath) else {
            throw TestSupportError.system("cannot open log file \(logPath)")
        }
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        // The handler holds only the exit state, not `self`, so dropping the last reference still runs deinit.
        process.terminationHandler = { [exit] _ in exit.markExited() }
        do {
            try SpawnLock.run(process)
        } catch {
            throw TestSupportError.system("cannot run \(executable): \(error)")
        }
        try? log.close()
    }

    public var pid: Int32 { process.processIdentifier }

    public var isRunning: Bool { !exit.hasExited }

    /// The exit status, once the process has exited.
    public var terminationStatus: Int32? { isRunning ? nil : process.terminationStatus }

    /// Everything the process has written so far.
    public var log: String {
        (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no log at \(logPath))"
    }

    /// Sends `signal` and waits up to `timeout` for the exit; returns whether the process exited.
    @discardableResult
    public func signal(_ signal: Int32, waitingUpTo timeout: Duration) -> Bool {
        guard isRunning else { return true }
        kill(process.processIdentifier, signal)
        return waitForExit(timeout: timeout)
    }

    /// Waits up to `timeout` for the process to exit by itself.
    public func waitForExit(timeout: Duration) -> Bool {
        guard isRunning else { return true }
        return exit.wait(timeout: timeout)
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

/// Exit bookkeeping shared with the termination handler.
private final class ExitState: @unchecked Sendable {
    private let lock = NSLock()
    private let exited = DispatchSemaphore(value: 0)
    private var exitedFlag = false

    var hasExited: Bool { lock.withLock { exitedFlag } }

    func markExited() {
        lock.withLock { exitedFlag = true }
        exited.signal()
    }

    func wait(timeout: Duration) -> Bool {
        if exited.wait(timeout: .now() + timeout.dispatchInterval) == .timedOut { return hasExited }
        exited.signal()  // keep it signalled for later waiters
        return true
    }
}
