import Foundation

/// One process start at a time. swift-corelibs-foundation's `Process.run()` is not safe to call from several
/// threads at once (seen here: a crash inside it while the differential test started `dig`s in parallel, and
/// EBADF from descriptors another spawn was closing). The children still run in parallel; only the start is serial.
enum SpawnLock {
    private static let lock = NSLock()

    static func run(_ process: Process) throws {
        lock.lock()
        defer { lock.unlock() }
        try process.run()
    }
}
