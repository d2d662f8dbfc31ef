import Synchronization

/// Counts open TCP connections against a cap, across every listen address and event loop.
final class ConnectionCounter: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)

    init(limit: Int) {
        self.limit = limit
    }

    var current: Int { open.load(ordering: .relaxed) }

    /// Takes a slot if one is free.
    func acquire() -> Bool {
        var seen = open.load(ordering: .relaxed)
        while seen < limit {
            let (exchanged, original) = open.compareExchange(
                expected: seen,
                desired: seen + 1,
                ordering: .acquiringAndReleasing
            )
            if exchanged { return true }
            seen = original
        }
        return false
    }

    func release() {
        open.subtract(1, ordering: .acquiringAndReleasing)
    }
}
