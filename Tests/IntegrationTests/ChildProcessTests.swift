import DNSTestSupport
import Foundation
import Testing

/// The posix_spawn runner under every process the tests start: exit codes and signals as Foundation reported
/// them, output capture, working directory, environment, timeouts, and many starts at once (what crashed
/// Foundation's Process.run here).
@Suite struct ChildProcessTests {
    static let shell = "/bin/sh"

    @Test func reportsExitCodesAndSignals() throws {
        let exited = try ChildProcess(Self.shell, ["-c", "exit 3"], standardOutput: .discard, standardError: .discard)
        #expect(exited.waitUntilExit() == 3)
        #expect(exited.termination == .exit(3))
        let killed = try ChildProcess(
            Self.shell,
            ["-c", "kill -TERM $$"],
            standardOutput: .discard,
            standardError: .discard
        )
        killed.waitUntilExit()
        #expect(killed.termination == .signal(SIGTERM))
        #expect(!killed.isRunning)
    }

    @Test func capturesOutputDirectoryAndEnvironment() throws {
        let directory = try TemporaryDirectory(prefix: "mcdns-child")
        defer { directory.remove() }
        let output = try ProcessRunner.run(
            Self.shell,
            ["-c", "pwd; echo to-stderr >&2; exit 0"],
            currentDirectory: directory.path
        )
        #expect(output.status == 0 && !output.timedOut)
        #expect(
            output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                == URL(fileURLWithPath: directory.path).resolvingSymlinksInPath().path
        )
        #expect(output.stderr == "to-stderr\n")

        let log = directory.path + "/both.log"
        let background = try BackgroundProcess(
            Self.shell,
            ["-c", "echo \"$GREETING\"; echo err >&2"],
            logPath: log,
            environment: ["GREETING": "hello"]
        )
        #expect(background.waitForExit(timeout: .seconds(10)))
        #expect(background.terminationStatus == 0)
        #expect(background.log == "hello\nerr\n")
    }

    @Test func killsAChildPastItsTimeout() throws {
        let start = ContinuousClock.now
        let output = try ProcessRunner.run("/bin/sleep", ["30"], timeout: .milliseconds(200))
        #expect(output.timedOut)
        #expect(output.status == SIGKILL)
        #expect(ContinuousClock.now - start < .seconds(20))
    }

    @Test func aMissingExecutableIsAnErrorNotACrash() {
        #expect(throws: TestSupportError.self) { try ChildProcess("/nonexistent/tool", []) }
        #expect(throws: TestSupportError.self) {
            try ChildProcess(Self.shell, ["-c", "true"], currentDirectory: "/nonexistent/directory")
        }
    }

    /// Foundation's Process.run crashed now and then when tests started children from several threads.
    @Test func manyStartsAtOnce() throws {
        let results = Array(0..<64).parallelMap(width: 8) { index in
            (try? ProcessRunner.run(ChildProcessTests.shell, ["-c", "echo \(index)"])).map {
                "\($0.status) \($0.stdout)"
            }
        }
        #expect(results == (0..<64).map { "0 \($0)\n" })
    }
}
