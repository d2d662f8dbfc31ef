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

    public let directory: String
    public var path: String { directory + "/" + Self.fileName }

    public init(directory: String) {
        self.directory = directory
    }

    // MARK: - Encoding

    public static func encode(_ state: PersistedState) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = [UInt8](try encoder.encode(state))
        var bytes = magic
        bytes.reserveCapacity(headerSize + payload.count)
        append(formatVersion, to: &bytes)
        append(UInt64(payload.count), to: &bytes)
        append(CRC32.checksum(payload), to: &bytes)
        bytes += payload
        return bytes
    }

    public static func decode(_ bytes: [UInt8], path: String) throws(StateFileError) -> PersistedState {
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
        guard length <= UInt64(Int.max - headerSize), bytes.count == headerSize + Int(length) else {
            let expected = length <= UInt64(Int.max - headerSize) ? headerSize + Int(length) : Int.max
            if bytes.count < expected { throw .truncated(path, size: bytes.count, expected: expected) }
            // Longer than promised: something appended or overwrote it; do not guess which part is right.
            throw .checksumMismatch(path)
        }
        let payload = Array(bytes[headerSize...])
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

    private static func read(_ bytes: [UInt8], at offset: Int, count: Int) -> UInt64 {
        var value: UInt64 = 0
        for byte in bytes[offset..<(offset + count)] { value = value << 8 | UInt64(byte) }
        return value
    }

    // MARK: - Files

    /// Reads and checks the state file. `.missing` when there is none.
    public func load() throws(StateFileError) -> PersistedState {
        guard FileManager.default.fileExists(atPath: path) else { throw .missing(path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadable(path, reason: "\(error.localizedDescription)")
        }
        return try Self.decode([UInt8](data), path: path)
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
