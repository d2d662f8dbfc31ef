import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The warm-restart file in `stateDir`: a versioned header with a checksum, then the state as JSON.
///
/// Layout (big-endian): 8 bytes magic `MCDNSST\0`, UInt32 format version, UInt64 payload length, UInt32 CRC-32
/// (IEEE) of the payload, then the payload. Written atomically: a temporary file in the same directory, fsync,
/// rename over the old file, fsync of the directory; so a crash leaves either the old or the new file, whole.
/// Reading checks every layer and reports what is wrong instead of trusting a damaged file.
public struct StateFile: Sendable {
    public static let magic: [UInt8] = Array("MCDNSST".utf8) + [0]
    public static let formatVersion: UInt32 = 1
    static let headerSize = 8 + 4 + 8 + 4
    public static let fileName = "records.state"

    /// The largest state file `load()` reads: 1 GiB. A larger one is refused from its size alone (the daemon
    /// starts cold and its next save replaces the file).
    public static let defaultMaximumSize = 1 << 30

    public let directory: String
    public let maximumSize: Int
    public var path: String { directory + "/" + Self.fileName }

    public init(directory: String, maximumSize: Int = defaultMaximumSize) {
        self.directory = directory
        self.maximumSize = maximumSize
    }

    // MARK: - Encoding

    /// The file's bytes for `state`: the header, then the JSON `JSONEncoder` with sorted keys writes for the whole
    /// state, byte for byte (StateFileTests compares them over random states).
    ///
    /// Written piece by piece: each record and each cluster is encoded on its own and appended to one buffer, and
    /// the document's own keys are written here in their sorted order. Encoding the whole state at once builds
    /// JSONEncoder's tree of every record before a byte is written: megabytes of small heap blocks, allocated for
    /// every save (about once a second under steady churn) and given back by the next heap trim (bench/soak.sh saw
    /// RSS swing by 2.9 MiB of 59 with it). One record's tree is a few kilobytes, and the same blocks serve the
    /// next record; the output buffer is one large block, which glibc maps and unmaps on its own.
    public static func encode(_ state: PersistedState) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var bytes = magic
        bytes.reserveCapacity(headerSize + 4096 + state.records.count * 512)
        append(formatVersion, to: &bytes)
        append(UInt64(0), to: &bytes)  // The payload's length and checksum are filled in once it is written.
        append(UInt32(0), to: &bytes)
        func element<T: Encodable>(_ value: T) throws { bytes += try encoder.encode(value) }
        func array<T: Encodable>(_ values: [T]) throws {
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                try element(value)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        // PersistedState's coding keys in the order sortedKeys puts them.
        bytes += Array(#"{"clusters":"#.utf8)
        try array(state.clusters)
        bytes += Array(#","records":"#.utf8)
        try array(state.records)
        bytes += Array(#","savedAt":"#.utf8)
        try element(state.savedAt)
        bytes += Array(#","serial":"#.utf8)
        try element(state.serial)
        bytes += Array(#","serialReserved":"#.utf8)
        try element(state.serialReserved)
        bytes.append(UInt8(ascii: "}"))
        let length = bytes.count - headerSize
        let checksum = bytes.withUnsafeBufferPointer { CRC32.checksum(UnsafeBufferPointer(rebasing: $0[headerSize...])) }
        patch(UInt64(length), into: &bytes, at: 12)
        patch(checksum, into: &bytes, at: 20)
        return bytes
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(StateFileError) -> PersistedState {
        let (length, checksum) = try checkHeader(Array(bytes.prefix(headerSize)), path: path)
        guard bytes.count == headerSize + length else {
            if bytes.count < headerSize + length {
                throw .truncated(path, size: bytes.count, expected: headerSize + length)
            }
            // Longer than promised: something appended or overwrote it; do not guess which part is right.
            throw .checksumMismatch(path)
        }
        return try decodePayload(Array(bytes[headerSize...]), checksum: checksum, path: path)
    }

    /// Checks the first `headerSize` bytes (fewer when the file is shorter): the payload length and checksum.
    static func checkHeader(_ bytes: [UInt8], path: String) throws(StateFileError) -> (length: Int, checksum: UInt32) {
        guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
            if bytes.count < magic.count, magic.starts(with: bytes) {
                throw .truncated(path, size: bytes.count, expected: headerSize)
            }
            throw .foreign(path)
        }
        guard bytes.count >= headerSize else { throw .truncated(path, size: bytes.count, expected: headerSize) }
        let version = UInt32(read(bytes, at: 8, count: 4))
        guard version == formatVersion else { throw .unsupportedVersion(path, version: version) }
        let length = read(bytes, at: 12, count: 8)
        let checksum = UInt32(read(bytes, at: 20, count: 4))
        // A length no file of ours can have is damage; the size check against the file reports it.
        let bounded = length <= UInt64(Int.max / 2) ? Int(length) : Int.max / 2
        return (bounded, checksum)
    }

    static func decodePayload(
        _ payload: [UInt8],
        checksum: UInt32,
        path: String
    ) throws(StateFileError)
        -> PersistedState
    {
        guard CRC32.checksum(payload) == checksum else { throw .checksumMismatch(path) }
        do {
            return try JSONDecoder().decode(PersistedState.self, from: Data(payload))
        } catch {
            throw .undecodable(path, reason: "\(error)")
        }
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { bytes += $0 }
    }

    private static func patch<T: FixedWidthInteger>(_ value: T, into bytes: inout [UInt8], at offset: Int) {
        withUnsafeBytes(of: value.bigEndian) { field in
            for (index, byte) in field.enumerated() { bytes[offset + index] = byte }
        }
    }

    private static func read(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes[offset..<(offset + count)] { value = value << 8 | UInt64(byte) }
        return value
    }

    // MARK: - Files

    /// Reads and checks the state file. `.missing` when there is none.
    ///
    /// The header is read and checked first (magic, version), then the file's size (at most `maximumSize`, and
    /// the payload length the header promises), so a foreign, oversized, truncated or padded file is refused
    /// without reading the rest. Only then is the payload read, once, into one buffer.
    public func load() throws(StateFileError) -> PersistedState {
        // O_NONBLOCK: a FIFO put in the file's place must not block the start.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            if errno == ENOENT { throw .missing(path) }
            throw .unreadable(path, reason: Self.errnoText("open"))
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .unreadable(path, reason: Self.errnoText("fstat")) }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw .unreadable(
                path,
                reason: "not a regular file; remove it (the daemon starts cold and writes a new one)"
            )
        }
        let size = Int(info.st_size)
        let header = try Self.readFully(fd, count: min(size, Self.headerSize), path: path)
        let (length, checksum) = try Self.checkHeader(header, path: path)
        guard size <= maximumSize else { throw .tooLarge(path, size: size, limit: maximumSize) }
        guard Self.headerSize + length == size else {
            if size < Self.headerSize + length {
                throw .truncated(path, size: size, expected: Self.headerSize + length)
            }
            throw .checksumMismatch(path)
        }
        let payload = try Self.readFully(fd, count: length, path: path)
        guard payload.count == length else {
            throw .truncated(path, size: Self.headerSize + payload.count, expected: size)
        }
        return try Self.decodePayload(payload, checksum: checksum, path: path)
    }

    /// Up to `count` bytes from `fd`'s current offset (fewer only at the end of the file).
    private static func readFully(_ fd: Int32, count: Int, path: String) throws(StateFileError) -> [UInt8] {
        var failure: String? = nil
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            initialized = 0
            while initialized < count {
                let result = Glibc.read(fd, buffer.baseAddress! + initialized, count - initialized)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = errnoText("read")
                    return
                }
                if result == 0 { return }
                initialized += result
            }
        }
        if let failure { throw .unreadable(path, reason: failure) }
        return bytes
    }

    /// Writes atomically: temp file, fsync, rename, fsync of the directory.
    public func save(_ state: PersistedState) throws(StateFileError) {
        let bytes: [UInt8]
        do {
            bytes = try Self.encode(state)
        } catch {
            throw .unwritable(path, reason: "cannot encode: \(error)")
        }
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .unwritable(path, reason: "cannot create \(directory): \(error.localizedDescription)")
        }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .unwritable(path, reason: Self.errnoText("open \(temporary)")) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, bytes.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = Self.errnoText("write \(temporary)")
                close(fd)
                unlink(temporary)
                throw .unwritable(path, reason: reason)
            }
            written += result
        }
        guard fsync(fd) == 0 else {
            let reason = Self.errnoText("fsync \(temporary)")
            close(fd)
            unlink(temporary)
            throw .unwritable(path, reason: reason)
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let reason = Self.errnoText("rename to \(path)")
            unlink(temporary)
            throw .unwritable(path, reason: reason)
        }
        // The rename is durable only once the directory entry is on disk.
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            _ = fsync(dirfd)
            close(dirfd)
        }
    }

    private static func errnoText(_ what: String) -> String {
        "\(what): \(String(cString: strerror(errno)))"
    }
}
