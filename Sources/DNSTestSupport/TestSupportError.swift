/// Why a test helper could not do its job; the message says what to check.
public enum TestSupportError: Error, CustomStringConvertible, Sendable {
    /// A tool the tests need is not installed (`make test` installs all of them).
    case toolMissing(String, package: String)
    /// A system call failed.
    case system(String)
    /// A process did not finish in time or a server did not come up in time.
    case timeout(String)
    /// A server process exited or could not start; `log` is its output.
    case serverFailed(String, log: String)
    /// dig printed something we could not read as a response.
    case unparsableOutput(String, output: String)

    public var description: String {
        switch self {
        case .toolMissing(let tool, let package):
            return "\(tool) not found in PATH or /usr/sbin: install the Debian package \(package) (make test does)"
        case .system(let message): return message
        case .timeout(let message): return "timed out: \(message)"
        case .serverFailed(let message, let log): return "\(message)\n--- server log ---\n\(log)"
        case .unparsableOutput(let message, let output): return "\(message)\n--- output ---\n\(output)"
        }
    }
}
