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
        // Both pipes are drained while the process runs (a tool that fills a pipe buffer would otherwise block),
        // here on the calling thread with poll: no reader threads, which under many parallel runs the global
        // dispatch pool hands out only slowly.
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        var streams = [child.standardOutput, child.standardError].map { handle in
            (descriptor: handle?.fileDescriptor ?? -1, data: Data())
        }
        var buffer = [UInt8](repeating: 0, count: 65536)
        while streams.contains(where: { $0.descriptor >= 0 }) {
            var polled = streams.map { pollfd(fd: $0.descriptor, events: Int16(POLLIN), revents: 0) }
            let left = deadline - ContinuousClock.now
            let waitMilliseconds = timedOut ? -1 : Int32(clamping: max(0, left.milliseconds))
            let ready = poll(&polled, nfds_t(polled.count), waitMilliseconds)
            if ready < 0 {
                guard errno == EINTR else { throw TestSupportError.system("poll: \(ChildProcess.errorText(errno))") }
                continue
            }
            if ready == 0 {
                // The deadline passed with the pipes still open: kill, then read what is left until they close.
                timedOut = true
                child.send(SIGKILL)
                continue
            }
            for index in streams.indices where streams[index].descriptor >= 0 && polled[index].revents != 0 {
                let count = read(streams[index].descriptor, &buffer, buffer.count)
                if count > 0 {
                    streams[index].data.append(contentsOf: buffer[0..<count])
                } else if count == 0 || errno != EINTR {
                    streams[index].descriptor = -1  // end of file (the FileHandle closes the descriptor)
                }
            }
        }
        // The pipes can close before the exit (a tool that closes its output and lingers).
        if !child.waitForExit(timeout: max(.zero, deadline - ContinuousClock.now)) {
            timedOut = true
            child.send(SIGKILL)
        }
        child.waitUntilExit()
        return ProcessOutput(
            status: child.terminationStatus ?? -1,
            stdout: String(decoding: streams[0].data, as: UTF8.self),
            stderr: String(decoding: streams[1].data, as: UTF8.self),
            timedOut: timedOut
        )
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
