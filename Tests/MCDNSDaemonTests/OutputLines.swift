import Foundation
import Synchronization

/// Collects what a child process writes to one pipe, from a thread of its own, so a test can wait for a line
/// (readiness) without blocking and read everything afterwards.
final class OutputLines: Sendable {
    private let text = Mutex("")
    private let finished = Mutex(false)
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    init(_ handle: FileHandle) {
        (stream, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let thread = Thread { [self] in
            while true {
                let data = handle.availableData
                if data.isEmpty { break }
                text.withLock { $0 += String(decoding: data, as: UTF8.self) }
                continuation.yield()
            }
            finished.withLock { $0 = true }
            continuation.yield()
            continuation.finish()
        }
        thread.start()
    }

    var all: String { text.withLock { $0 } }
    var isFinished: Bool { finished.withLock { $0 } }

    /// Waits until the output contains `needle` (true) or the pipe closes without it or `timeout` passes (false).
    func wait(for needle: String, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                if self.all.contains(needle) { return true }
                for await _ in self.stream where self.all.contains(needle) { return true }
                return self.all.contains(needle)
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }

    /// Waits until the pipe closes (the child exited and closed it); false when `timeout` passes first.
    func waitForEnd(timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                for await _ in self.stream where self.isFinished { return true }
                return self.isFinished
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
