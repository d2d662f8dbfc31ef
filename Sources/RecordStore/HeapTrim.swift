import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Gives freed heap memory back to the system (`HeapTrimSchedule` says when).
///
/// Building the first table of a big fleet goes through many batches, each replacing the shards it touches; glibc
/// keeps the freed blocks, and the scale bench showed a third of the RSS after the first table was such garbage
/// (236 MiB before `malloc_trim`, 160 MiB after, 10,000 services). `malloc_trim` is not in Glibc's module map, so
/// it is looked up once by name; where it does not exist this does nothing.
enum HeapTrim {
    private typealias Trim = @convention(c) (Int) -> Int32

    private static let trimFunction: Trim? = {
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") else { return nil }
            return unsafeBitCast(symbol, to: Trim.self)
        #else
            return nil
        #endif
    }()

    static func trim() {
        _ = trimFunction?(0)
    }
}

/// When `RecordStore` trims the heap after a compile: after every member change, once `changeThreshold` records
/// have changed since the last trim (in one batch or over many), and after any change once `interval` has passed
/// since the last trim. The first keeps a big compile's garbage from lingering; the second bounds a steady trickle:
/// watch events and small batches leave decoding buffers and replaced shards behind, which otherwise stay mapped
/// until the threshold is reached (bench/soak.sh's RSS check). A trim runs on the compile path after the new table
/// is published, never on the query path. Time comes in as an argument, so tests advance it instead of sleeping.
struct HeapTrimSchedule {
    static let changeThreshold = 1_000
    static let interval: Duration = .seconds(5)

    /// Records changed since the last trim.
    private(set) var changedSinceTrim = 0
    /// When the last trim was due (nil: none yet).
    private(set) var lastTrim: ContinuousClock.Instant?

    /// Counts a batch applied at `now` and says whether a trim follows it; when it does, the counts start again.
    mutating func afterBatch(changed: Int, clustersChanged: Bool, at now: ContinuousClock.Instant) -> Bool {
        changedSinceTrim += changed
        let due = clustersChanged
            || changedSinceTrim >= Self.changeThreshold
            || (changedSinceTrim > 0 && lastTrim.map { now - $0 >= Self.interval } ?? true)
        if due {
            changedSinceTrim = 0
            lastTrim = now
        }
        return due
    }
}

/// Keeps glibc to one malloc arena unless the environment chooses (`MALLOC_ARENA_MAX`), and its mmap threshold
/// fixed (`fixMmapThreshold`).
///
/// glibc gives threads that allocate at once arenas of their own, up to eight per core. The controller's threads
/// and the compiler's then fill each other's pages with long-lived records between short-lived temporaries, and
/// the freed space stays inside partly used pages that `malloc_trim` cannot give back. At 100,000 services
/// (`bench/scale.sh`, 300,000 endpoints, the same build): with two arenas RSS was 1,588 bytes per endpoint over a
/// heap in use of 1,381; with one, 1,430 over the same heap. The UDP path allocates nothing, so no query waits on
/// the one arena's lock; TCP, HTTP and the compile share it.
public enum HeapArenas {
    /// What `limit` did.
    public enum Outcome: Equatable, Sendable {
        /// The setting was made: the arena count or the threshold in bytes.
        case limited(Int32)
        /// The environment variable (`MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_`) is set: glibc follows it, and
        /// so does this.
        case leftToEnvironment(String)
        /// No `mallopt` here (not glibc), or it refused.
        case unavailable
    }

    private typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
    /// glibc's `M_ARENA_MAX` (malloc.h).
    static let arenaMaxParameter: Int32 = -8

    /// Call first thing at startup: arenas made before stay.
    @discardableResult
    public static func limit(to arenas: Int32 = 1, environment: [String: String]? = nil) -> Outcome {
        set(arenaMaxParameter, to: arenas, unlessSet: "MALLOC_ARENA_MAX", in: environment)
    }

    /// glibc's `M_MMAP_THRESHOLD` (malloc.h).
    static let mmapThresholdParameter: Int32 = -3
    /// Allocations from this size up get pages of their own, given back to the system when freed.
    public static let mmapThreshold: Int32 = 128 * 1024

    /// Fixes glibc's mmap threshold at `bytes`, unless `MALLOC_MMAP_THRESHOLD_` chooses.
    ///
    /// glibc starts at 128 KiB but raises the threshold to the size of each mmapped block freed (up to 32 MiB),
    /// after which large short-lived buffers (a list response, a state write, a watch's JSON) come from the heap
    /// and stay mapped until a trim finds whole free pages. Fixed, they come and go with their own pages. In
    /// `bench/soak.sh` (1,000 changes a minute, a member flapping) RSS after warm-up moved by at most 4.8% around
    /// its mean with the threshold fixed, and by 6.8% without. None of these allocations is on the UDP path.
    @discardableResult
    public static func fixMmapThreshold(at bytes: Int32 = mmapThreshold, environment: [String: String]? = nil) -> Outcome {
        set(mmapThresholdParameter, to: bytes, unlessSet: "MALLOC_MMAP_THRESHOLD_", in: environment)
    }

    /// `mallopt(parameter, value)`, unless the environment variable glibc reads for it is set.
    private static func set(_ parameter: Int32, to value: Int32, unlessSet variable: String,
                            in environment: [String: String]?) -> Outcome {
        if let chosen = (environment ?? ProcessInfo.processInfo.environment)[variable] {
            return .leftToEnvironment(chosen)
        }
        #if canImport(Glibc)
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") else { return .unavailable }
            let mallopt = unsafeBitCast(symbol, to: Mallopt.self)
            return mallopt(parameter, value) == 1 ? .limited(value) : .unavailable
        #else
            return .unavailable
        #endif
    }
}
