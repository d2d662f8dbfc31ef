import CMCDNSSys
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The thread one zone transfer is made on: a real thread of its own at nice `niceness`, so that the kernel
/// gives the UDP workers (nice 0) the core first and a transfer only the CPU they leave. Not a task: a task
/// shares the cooperative pool's threads, whose priority the UDP workers' cannot be set apart from.
///
/// Nice 19, not SCHED_IDLE: both leave the UDP workers nearly all of a saturated core (a nice-19 thread weighs
/// 15 against a nice-0 thread's 1,024, about 1.4% of the core; SCHED_IDLE about 0.3%), but nice 19 still moves a
/// transfer along under sustained full load, where SCHED_IDLE could leave a secondary waiting past its I/O
/// timeout (Knot's `tcp-remote-io-timeout`: 5 s) between two messages. When the core is not saturated the
/// transfer takes what the UDP workers leave, either way. A larger share is not worth its weight: sending a
/// message (the event loop's write, the kernel's TCP) runs at nice 0 and grows with the transfer's pace, so at
/// nice 13 (5% by weight) the query rate of a saturated core fell by 20% while transfers ran
/// (`bench/transfer.sh --under-load`).
enum TransferThread {
    static let niceness: Int32 = 19

    /// Runs `body` on a new detached thread; false when no thread could be made.
    static func start(_ body: @escaping @Sendable () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Body(body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        var handle = pthread_t()
        let result = pthread_create(
            &handle,
            &attributes,
            { argument in
                guard let argument else { return nil }
                let body = Unmanaged<Body>.fromOpaque(argument).takeRetainedValue()
                mcdns_thread_set_name("mcdns-transfer")
                _ = mcdns_thread_set_nice(TransferThread.niceness)
                body.run()
                return nil
            },
            box
        )
        guard result == 0 else {
            Unmanaged<Body>.fromOpaque(box).release()
            return false
        }
        return true
    }

    private final class Body {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }
}

/// The hand-over from a transfer thread to its connection's event loop: at most `window` messages written and
/// not yet taken by the kernel. The thread waits for room before it makes the next message, so a slow reader
/// holds back the transfer (TCP back pressure) instead of the zone piling up in memory, and the wait ends at once
/// when the connection goes away (`cancel`).
final class TransferOutlet: @unchecked Sendable {
    static let window: UInt32 = 2

    /// Counts the free places in the window (a semaphore: the thread blocks on it, the event loop posts it).
    private let room: UnsafeMutablePointer<sem_t>
    private let cancelled = Atomic<Bool>(false)

    init() {
        room = .allocate(capacity: 1)
        sem_init(room, 0, Self.window)
    }

    deinit {
        sem_destroy(room)
        room.deallocate()
    }

    /// True once the connection is gone: the transfer is to stop.
    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }

    /// Blocks until a message may be handed over; false when the connection went away instead.
    func waitForRoom() -> Bool {
        while !isCancelled {
            if sem_wait(room) == 0 { return !isCancelled }
            guard errno == EINTR else { return false }
        }
        return false
    }

    /// The kernel took one message: a place is free again.
    func taken() { sem_post(room) }

    /// The connection is gone: wakes the thread, which stops.
    func cancel() {
        cancelled.store(true, ordering: .releasing)
        sem_post(room)
    }
}
