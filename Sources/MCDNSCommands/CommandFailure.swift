import ArgumentParser

/// Why a command failed, mapped to the documented exit codes (README, "Exit codes"): scripts can tell "the daemon
/// is down" from "the record does not exist" from "you typed it wrong".
enum CommandFailure: Error, CustomStringConvertible {
    /// 1: the command ran and the answer is "no" (check found problems; the server answered with an error).
    case failed(String)
    /// 64 (EX_USAGE, as argument-parser's own usage errors): bad arguments the parser could not catch (an
    /// unusable --admin, --server, --subnet).
    case usage(String)
    /// 3: the admin API or DNS server could not be reached, or did not answer in time.
    case unreachable(String)
    /// 4: the admin API refused the request (missing or wrong token).
    case unauthorized(String)
    /// 5: what was asked for does not exist (a record, a cluster).
    case notFound(String)
    /// 64: the admin API rejected the request as malformed (an unknown cluster, a bad name).
    case badRequest(String)

    var description: String {
        switch self {
        case .failed(let text), .usage(let text), .unreachable(let text), .unauthorized(let text),
            .notFound(let text), .badRequest(let text):
            return text
        }
    }

    var exitCode: ExitCode {
        switch self {
        case .failed: return ExitCode(1)
        case .usage, .badRequest: return ExitCode(64)
        case .unreachable: return ExitCode(3)
        case .unauthorized: return ExitCode(4)
        case .notFound: return ExitCode(5)
        }
    }

    /// Prints the message to standard error and returns the exit code to throw.
    func report() -> ExitCode {
        Output.line("mcdns: \(description)", to: .standardError)
        return exitCode
    }
}
