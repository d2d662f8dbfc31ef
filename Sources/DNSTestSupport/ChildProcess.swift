public import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawn` and reaped by a thread of its own.
///
/// Foundation's `Process.run()` in this toolchain reads past the end of a `readdir` buffer while it lists the
/// descriptors to close in the child (swift-corelibs-foundation PR #5472); it crashed the test process now and
/// then, and failed with EBADF when another thread closed a descriptor meanwhile. `posix_spawn` needs no such
/// list: every descriptor this module opens is close-on-exec, and the child gets only the three it is given.
/// It is safe to call from several threads at once, so starts are not serialised either.
public final class ChildProcess: @unchecked Sendable {
    /// Where one of the child's output streams goes.
    public enum Output: Sendable {
        /// A pipe; the parent reads it through `standardOutput` / `standardError`.
        case pipe
        /// A file, created or truncated; both streams may name the same file.
        case file(String)
        /// `/dev/null`.
        case discard
    }

    public let executable: String
    public let arguments: [String]
    public let pid: pid_t
    /// The read end of the child's stdout when it is `.pipe`, else nil.
    public let standardOutput: FileHandle?
    /// The read end of the child's stderr when it is `.pipe`, else nil.
    public let standardError: FileHandle?
    private let exit: ExitState

    /// Starts `executable` (an absolute path) with `arguments`; stdin is `/dev/null`. `environment` nil inherits
    /// ours; `currentDirectory` nil keeps ours. The child starts with no blocked signals unless `blockedSignals`
    /// names some (to test a child started by a parent that blocks them, as Foundation's `Process` does).
    public init(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]? = nil,
        currentDirectory: String? = nil,
        standardOutput stdoutTarget: Output = .pipe,
        standardError stderrTarget: Output = .pipe,
        blockedSignals: [Int32] = []
    ) throws(TestSupportError) {
        self.executable = executable
        self.arguments = arguments
        // Descriptors the parent closes once the child has its copies.
        var parentCloses: [Int32] = []
        defer { for descriptor in parentCloses { close(descriptor) } }
        var readEnds: [FileHandle?] = []
        var childEnds: [Int32] = []
        var openedFiles: [String: Int32] = [:]
        do {
            for target in [stdoutTarget, stderrTarget] {
                switch target {
                case .pipe:
                    var ends: [Int32] = [-1, -1]
                    guard let pipe2 = Self.pipe2, pipe2(&ends, O_CLOEXEC) == 0 else {
                        throw TestSupportError.system("pipe2: \(Self.errorText(errno))")
                    }
                    readEnds.append(FileHandle(fileDescriptor: ends[0], closeOnDealloc: true))
                    childEnds.append(ends[1])
                    parentCloses.append(ends[1])
                case .file(let path):
                    if let descriptor = openedFiles[path] {
                        childEnds.append(descriptor)
                    } else {
                        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
                        guard descriptor >= 0 else {
                            throw TestSupportError.system("cannot open \(path): \(Self.errorText(errno))")
                        }
                        openedFiles[path] = descriptor
                        childEnds.append(descriptor)
                        parentCloses.append(descriptor)
                    }
                    readEnds.append(nil)
                case .discard:
                    childEnds.append(-1)
                    readEnds.append(nil)
                }
            }
            pid = try Self.spawn(
                executable,
                arguments,
                environment: environment,
                currentDirectory: currentDirectory,
                stdout: childEnds[0],
                stderr: childEnds[1],
                blockedSignals: blockedSignals
            )
        } catch let error as TestSupportError {
            throw error
        } catch {
            throw TestSupportError.system("cannot run \(executable): \(error)")
        }
        standardOutput = readEnds[0]
        standardError = readEnds[1]
        exit = ExitState()
        Self.reap(pid, into: exit)
    }

    /// How a child ended.
    public enum Termination: Equatable, Sendable {
        case exit(Int32)
        case signal(Int32)
    }

    public var isRunning: Bool { exit.termination == nil }

    /// How the child ended, once it has.
    public var termination: Termination? { exit.termination }

    /// The exit status once the child has exited: its exit code, or the number of the signal that ended it
    /// (as Foundation's `terminationStatus`).
    public var terminationStatus: Int32? {
        switch exit.termination {
        case .exit(let code), .signal(let code): code
        case nil: nil
        }
    }

    /// Waits up to `timeout` for the exit; returns whether the child has exited.
    @discardableResult
    public func waitForExit(timeout: Duration) -> Bool { exit.wait(timeout: timeout) }

    /// Waits for the exit, however long it takes; returns the termination status.
    @discardableResult
    public func waitUntilExit() -> Int32 {
        exit.waitForever()
        return terminationStatus ?? -1
    }

    /// Sends `signal` unless the child has already exited (and been reaped: its pid may then be reused).
    public func send(_ signal: Int32) {
        exit.whileRunning { kill(pid, signal) }
    }

    // MARK: - posix_spawn

    static func spawn(
        _ executable: String,
        _ arguments: [String],
        environment: [String: String]?,
        currentDirectory: String?,
        stdout: Int32,
        stderr: Int32,
        blockedSignals: [Int32] = []
    ) throws(TestSupportError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        for (descriptor, target) in [(stdout, Int32(1)), (stderr, Int32(2))] {
            if descriptor < 0 {
                posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            } else {
                // dup2 clears close-on-exec on the copy, so exactly these survive the exec.
                posix_spawn_file_actions_adddup2(&actions, descriptor, target)
            }
        }
        // Nothing else of the test process reaches the child: descriptors opened without close-on-exec (SwiftNIO's
        // listening sockets among them) would otherwise live on in a long-running child such as `mcdns serve`,
        // keeping a stopped simulator's port in LISTEN so it could not be bound again.
        if let addclosefrom = addCloseFrom {
            _ = addclosefrom(&actions, 3)
        }
        if let currentDirectory {
            guard let addchdir = addChdir else {
                throw .system("this C library has no posix_spawn_file_actions_addchdir_np (glibc 2.29+)")
            }
            let result = currentDirectory.withCString { addchdir(&actions, $0) }
            guard result == 0 else { throw .system("cannot change to \(currentDirectory): \(errorText(result))") }
        }

        // The child starts with no blocked signals and default handlers: the test process ignores SIGPIPE (and
        // its threads may block signals), which a child like dig or unbound must not inherit.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        for signal in blockedSignals { sigaddset(&noSignals, signal) }
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        let environmentStrings = environment.map { variables in variables.map { "\($0.key)=\($0.value)" } }
        let envp = environmentStrings.map { $0.map { strdup($0) } + [nil] }
        defer { for pointer in envp ?? [] { free(pointer) } }

        var pid = pid_t()
        let result: Int32
        if let envp {
            result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        } else {
            result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        }
        guard result == 0 else { throw .system("cannot run \(executable): \(errorText(result))") }
        return pid
    }

    /// glibc declares posix_spawn_file_actions_addchdir_np only for _GNU_SOURCE, which the Glibc module is not
    /// built with; the symbol is there all the same (glibc 2.29+).
    private typealias AddChdir =
        @convention(c) (
            UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>
        ) -> Int32
    private static let addChdir: AddChdir? = dlsym(nil, "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }

    /// posix_spawn_file_actions_addclosefrom_np (glibc 2.34+), also behind _GNU_SOURCE: closes every descriptor
    /// from the given one up in the child, after the dup2s above.
    private typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    private static let addCloseFrom: AddCloseFrom? = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    /// pipe2 is hidden behind _GNU_SOURCE too. pipe plus fcntl would leave a moment in which a child spawned by
    /// another thread inherits the write end, and its reader would then wait for that child's exit.
    private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
    private static let pipe2: Pipe2? = dlsym(nil, "pipe2").map { unsafeBitCast($0, to: Pipe2.self) }

    /// One thread per child waits for it: the status is known the moment the child exits, and nothing else in
    /// the process reaps it (Foundation's own monitor only waits for the pids of its `Process`es). The wait
    /// leaves the child a zombie (WNOWAIT) until the status is recorded under the lock `send` holds, so a
    /// signal can never reach another process that reused the pid.
    private static func reap(_ pid: pid_t, into exit: ExitState) {
        let thread = Thread {
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) == -1 {
                guard errno == EINTR else { break }
            }
            exit.markExited {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1 {
                    guard errno == EINTR else { return .exit(-1) }
                }
                // WIFEXITED / WEXITSTATUS / WTERMSIG, which Swift does not import (they are macros).
                let signal = status & 0x7f
                return signal == 0 ? .exit((status >> 8) & 0xff) : .signal(signal)
            }
        }
        thread.name = "reap \(pid)"
        thread.start()
    }

    static func errorText(_ code: Int32) -> String { String(cString: strerror(code)) }
}

/// How the child ended, set once by the reaper thread, and a way to wait for it.
private final class ExitState: @unchecked Sendable {
    private let condition = NSCondition()
    private var exitStatus: ChildProcess.Termination?

    var termination: ChildProcess.Termination? {
        condition.lock()
        defer { condition.unlock() }
        return exitStatus
    }

    /// Reaps (through `reap`, which returns the status) and records the exit in one step under the lock.
    func markExited(reap: () -> ChildProcess.Termination) {
        condition.lock()
        exitStatus = reap()
        condition.broadcast()
        condition.unlock()
    }

    func wait(timeout: Duration) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout.timeInterval)
        condition.lock()
        defer { condition.unlock() }
        while exitStatus == nil {
            if !condition.wait(until: deadline) { break }
        }
        return exitStatus != nil
    }

    func waitForever() {
        condition.lock()
        while exitStatus == nil { condition.wait() }
        condition.unlock()
    }

    /// Runs `body` only while the child has not been reaped, with the reaper held off until it returns.
    func whileRunning(_ body: () -> Void) {
        condition.lock()
        defer { condition.unlock() }
        if exitStatus == nil { body() }
    }
}
