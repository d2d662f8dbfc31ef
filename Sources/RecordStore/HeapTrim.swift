#if canImport(Glibc)
    import Glibc
#endif

/// Gives freed heap memory back to the system after a large compile.
///
/// Building the first table of a big fleet goes through many batches, each replacing the shards it touches; glibc
/// keeps the freed blocks, and the scale bench showed a third of the RSS after the first table was such garbage
/// (236 MiB before `malloc_trim`, 160 MiB after, 10,000 services). `malloc_trim` is not in Glibc's module map, so
/// it is looked up once by name; where it does not exist this does nothing.
enum HeapTrim {
    /// Batches with at least this many changed records are followed by a trim: small updates leave little garbage
    /// and should not pay for walking the heap.
    static let threshold = 1_000

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
