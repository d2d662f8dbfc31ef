/// Why a state file was not used. Each case says what happened and that the daemon goes on without it.
public enum StateFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No file yet (first start): not a problem.
    case missing(String)
    case unreadable(String, reason: String)
    /// Shorter than its header, or than the payload length the header promises (a write cut short).
    case truncated(String, size: Int, expected: Int)
    /// Not a mcdns state file at all.
    case foreign(String)
    /// Larger than `StateFile.maximumSize`: refused without reading it.
    case tooLarge(String, size: Int, limit: Int)
    /// A mcdns state file of a format version this build does not read.
    case unsupportedVersion(String, version: UInt32)
    case checksumMismatch(String)
    /// The checksum matched but the payload did not decode (written by a build with other types).
    case undecodable(String, reason: String)
    case unwritable(String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path): return "\(path): no state file yet"
        case .unreadable(let path, let reason): return "\(path): cannot read the state file: \(reason)"
        case .truncated(let path, let size, let expected):
            return "\(path): state file truncated (\(size) bytes, expected \(expected)); ignored"
        case .foreign(let path): return "\(path): not a mcdns state file (wrong magic); ignored"
        case .tooLarge(let path, let size, let limit):
            return "\(path): state file of \(size) bytes is larger than the limit of \(limit) bytes; ignored without "
                + "reading it, starting cold (the next save replaces it; remove it if it is not mcdns's)"
        case .unsupportedVersion(let path, let version):
            return "\(path): state file format version \(version) is not supported (this build reads "
                + "\(StateFile.formatVersion)); ignored"
        case .checksumMismatch(let path): return "\(path): state file checksum mismatch (corrupt); ignored"
        case .undecodable(let path, let reason): return "\(path): state file content unreadable: \(reason); ignored"
        case .unwritable(let path, let reason): return "\(path): cannot write the state file: \(reason)"
        }
    }
}
