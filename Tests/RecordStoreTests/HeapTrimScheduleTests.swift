@testable import RecordStore
import Testing

/// When a compile is followed by a heap trim: after member changes, after many records, and after any change once
/// the interval has passed. Time is advanced by hand.
@Suite struct HeapTrimScheduleTests {
    /// One batch: how many records changed, whether the member list changed, and when (from a fixed start).
    struct Batch {
        var changed: Int
        var clusters = false
        var at: Duration
    }

    /// Whether a trim followed each batch, in order, from a fresh schedule.
    func trims(_ batches: [Batch]) -> [Bool] {
        let start = ContinuousClock.now
        var schedule = HeapTrimSchedule()
        return batches.map { schedule.afterBatch(changed: $0.changed, clustersChanged: $0.clusters, at: start + $0.at) }
    }

    @Test func theFirstChangeTrimsAndAQuietStoreNever() {
        // Nothing changed: no trim however long it has been.
        #expect(trims([Batch(changed: 1, at: .zero), Batch(changed: 0, at: .seconds(3600))]) == [true, false])
    }

    @Test func aTrickleTrimsOncePerInterval() {
        // One change a second for 20 seconds, far below the threshold: a trim every 5 seconds.
        let result = trims((0...20).map { Batch(changed: 1, at: .seconds($0)) })
        #expect(result.indices.filter { result[$0] } == [0, 5, 10, 15, 20])
    }

    @Test func manyRecordsTrimAtOnceWithinTheInterval() {
        let threshold = HeapTrimSchedule.changeThreshold
        let result = trims([
            Batch(changed: 1, at: .zero),
            Batch(changed: threshold - 1, at: .milliseconds(10)),
            Batch(changed: 1, at: .milliseconds(20)),
            Batch(changed: 1, at: .milliseconds(30)),
            Batch(changed: threshold, at: .milliseconds(40)),
        ])
        #expect(result == [true, false, true, false, true])
    }

    @Test func aMemberChangeAlwaysTrimsAndStartsTheIntervalAgain() {
        let result = trims([
            Batch(changed: 1, at: .zero),
            Batch(changed: 0, clusters: true, at: .milliseconds(1)),
            Batch(changed: 0, clusters: true, at: .milliseconds(2)),
            Batch(changed: 1, at: .seconds(4)),
            Batch(changed: 1, at: .seconds(6)),
        ])
        #expect(result == [true, true, true, false, true])
    }
}
