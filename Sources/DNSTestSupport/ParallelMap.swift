import Foundation

extension Array where Element: Sendable {
    /// Maps on up to `width` threads, keeping the order. For blocking work (spawning dig) that would starve
    /// Swift's cooperative thread pool if run in tasks.
    public func parallelMap<Result: Sendable>(
        width: Int = 4,
        _ transform: @escaping @Sendable (Element) -> Result
    ) -> [Result] {
        let results = ResultSlots<Result>(count: count)
        let limiter = DispatchSemaphore(value: Swift.max(1, width))
        let group = DispatchGroup()
        for (index, element) in enumerated() {
            limiter.wait()
            DispatchQueue.global().async(group: group) {
                results.set(index, transform(element))
                limiter.signal()
            }
        }
        group.wait()
        return results.values
    }
}

private final class ResultSlots<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var slots: [Value?]

    init(count: Int) { slots = Array(repeating: nil, count: count) }

    func set(_ index: Int, _ value: Value) { lock.withLock { slots[index] = value } }

    var values: [Value] { lock.withLock { slots.map { $0! } } }
}
