internal import Foundation
import KubeClient
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One watched manifest directory between polls: the last good objects of every file, and what has been emitted.
///
/// Each poll compares file signatures (inode, size, modification time in nanoseconds), re-reads only the files
/// that changed, and turns the difference into upserts and deletes. A file that fails to parse keeps its last
/// good objects; its error is reported once per version of the file.
///
/// After the first poll a change is acted on only once two consecutive polls see the same thing: an editor that
/// saves by deleting and re-creating a file, or a write caught half-way, would otherwise withdraw the file's
/// services for one poll. That costs at most one poll interval of latency.
struct ManifestDirectory {
    struct FileSignature: Equatable {
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int
    }

    struct FileEntry {
        var signature: FileSignature
        var objects: [KubeObjectRef: KubeObject]
    }

    enum Unavailable: Error, Equatable {
        case notADirectory(String)
    }

    /// Why a directory's entries could not be read: the `errno` of `opendir` or `readdir`.
    struct DirectoryError: Error, Equatable {
        var code: Int32
        var text: String { String(cString: strerror(code)) }
    }

    /// Reads the entry names of a directory (without `.` and `..`); tests inject failures here.
    typealias DirectoryReader = @Sendable (String) throws(DirectoryError) -> [String]

    static let extensions: Set<String> = ["yaml", "yml", "json"]
    /// The walk reads directories at most this deep below the root.
    static let maxDepth = 16
    /// The walk stops after this many files and directories; the rest keep what they had.
    static let maxEntries = 100_000

    let root: String
    let readDirectory: DirectoryReader
    private(set) var files: [String: FileEntry] = [:]
    /// The object each ref currently has in the member's view, i.e. what the source has emitted.
    private(set) var emitted: [KubeObjectRef: KubeObject] = [:]
    /// Signatures of broken file versions already reported, so a broken file is logged once, not every poll.
    private var reportedBroken: [String: FileSignature] = [:]
    /// Changes seen by the last poll and not yet acted on: a path's new signature, or nil when it vanished.
    private var pending: [String: FileSignature?] = [:]
    private var polledOnce = false
    /// The walk's notes (unreadable or skipped directories) last reported, so each is reported once.
    private var reportedNotes: Set<String> = []

    init(root: String, readDirectory: @escaping DirectoryReader = ManifestDirectory.readEntries) {
        self.root = root
        self.readDirectory = readDirectory
    }

    struct PollResult {
        /// Upserts and deletes that bring a consumer up to date, and `problem`s for files that do not parse or
        /// objects defined twice.
        var events: [MemberEvent] = []
        /// Objects of kinds mcdns does not read, in the files re-read by this poll (`file:line kind name`).
        var ignored: [String] = []
    }

    /// Re-reads what changed since the last poll.
    ///
    /// A directory that cannot be read (EMFILE, EACCES, EIO…) or a walk cut short by its limits is not "no
    /// files": the files known under it keep their objects, and the reason is reported once as a problem.
    mutating func poll() throws(Unavailable) -> PollResult {
        let listing = try Self.list(root, readDirectory: readDirectory)
        var result = PollResult()
        var touched: Set<KubeObjectRef> = []
        let notes = Set(listing.notes)
        for note in listing.notes where !reportedNotes.contains(note) { result.events.append(.problem(note)) }
        reportedNotes = notes

        var nextPending: [String: FileSignature?] = [:]
        for path in Set(listing.files.keys).union(files.keys).sorted() {
            let signature = listing.files[path]
            if signature == nil, listing.isUnknown(path) {
                // Not seen because its directory could not be read: unchanged as far as anyone knows.
                if let entry = pending[path] { nextPending[path] = .some(entry) }
                continue
            }
            let known = files[path]?.signature
            if signature == known || (signature != nil && reportedBroken[path] == signature) { continue }
            // Settle first (see the type's comment); the very first poll has nothing to protect.
            if polledOnce, pending[path] != .some(signature) {
                nextPending[path] = .some(signature)
                continue
            }
            guard let signature else {
                if let entry = files.removeValue(forKey: path) { touched.formUnion(entry.objects.keys) }
                reportedBroken[path] = nil
                continue
            }
            switch Self.read(root: root, path: path) {
            case .success(let document):
                result.ignored += document.ignored.map { "\(root)/\(path):\($0.line ?? 0) \($0)" }
                let objects = Dictionary(document.objects.map { ($0.ref, $0) }, uniquingKeysWith: { _, last in last })
                if let old = files[path] { touched.formUnion(old.objects.keys) }
                touched.formUnion(objects.keys)
                files[path] = FileEntry(signature: signature, objects: objects)
                reportedBroken[path] = nil
            case .failure(let error):
                // Keep the file's last good objects (or none, if it never parsed) and say why once.
                reportedBroken[path] = signature
                result.events.append(.problem(error.description + "; keeping the last good content of this file"))
            }
        }
        pending = nextPending
        polledOnce = true

        let ordered = files.keys.sorted()
        for ref in touched.sorted() {
            let definers = ordered.filter { files[$0]!.objects[ref] != nil }
            if definers.count > 1 {
                result.events.append(
                    .problem("\(ref) is defined in \(definers.joined(separator: ", ")); using \(definers[0])")
                )
            }
            if let path = definers.first, let object = files[path]!.objects[ref] {
                if emitted[ref] != object {
                    emitted[ref] = object
                    result.events.append(.upsert(object))
                }
            } else if emitted.removeValue(forKey: ref) != nil {
                result.events.append(.delete(ref))
            }
        }
        return result
    }

    /// Loads a directory once, for `mcdns check`: every object, and every file that does not parse.
    static func load(_ root: String) -> (objects: [KubeObject], errors: [ManifestError]) {
        let listing: Listing
        do {
            listing = try list(root, readDirectory: readEntries)
        } catch {
            return ([], [ManifestError(file: root, line: nil, message: "not a readable directory")])
        }
        var objects: [KubeObject] = []
        var errors = listing.notes.map { ManifestError(file: root, line: nil, message: $0) }
        for path in listing.files.keys.sorted() {
            switch read(root: root, path: path) {
            case .success(let document): objects += document.objects
            case .failure(let error): errors.append(error)
            }
        }
        return (objects, errors)
    }

    private static func read(root: String, path: String) -> Result<KubeDocument, ManifestError> {
        let full = root + "/" + path
        let limit = YAMLBudget.manifest.maxBytes
        guard let handle = FileHandle(forReadingAtPath: full) else {
            return .failure(ManifestError(file: full, line: nil, message: "cannot be read"))
        }
        defer { try? handle.close() }
        let data: Data
        do {
            // One byte past the limit tells a file at the limit from a larger one without reading the rest.
            data = try handle.read(upToCount: limit + 1) ?? Data()
        } catch {
            let reason = error.localizedDescription
            return .failure(ManifestError(file: full, line: nil, message: "cannot be read: \(reason)"))
        }
        guard data.count <= limit else {
            let message = "larger than the limit of \(limit) bytes; split it into files"
            return .failure(ManifestError(file: full, line: nil, message: message))
        }
        guard let text = String(data: data, encoding: .utf8) else {
            return .failure(ManifestError(file: full, line: nil, message: "is not UTF-8 text"))
        }
        do {
            return .success(try ManifestParser.parse(text, file: full))
        } catch {
            return .failure(error)
        }
    }

    /// What one walk found: the manifest files, where it could not look, and why.
    struct Listing {
        var files: [String: FileSignature] = [:]
        /// Relative directories ("" for the root) whose content this walk does not know.
        var unknown: [String] = []
        /// Directories that could not be read or were skipped, for the member's status.
        var notes: [String] = []

        func isUnknown(_ path: String) -> Bool {
            unknown.contains { $0.isEmpty || path == $0 || path.hasPrefix($0 + "/") }
        }
    }

    /// Manifest files under `root` (recursively, relative paths), skipping hidden files and directories (editor
    /// swap files, and Kubernetes ConfigMap mounts' `..data` twins of the visible names).
    ///
    /// Symbolic links are followed, but a directory already read (by device and inode) is skipped, so a link
    /// back up the tree (`ln -s . loop`) is read once, not again and again. The walk goes at most `maxDepth`
    /// levels deep and stops after `maxEntries` entries; only regular files are manifests (a FIFO named
    /// `x.yaml` would block the read).
    static func list(_ root: String, readDirectory: DirectoryReader) throws(Unavailable) -> Listing {
        guard case .found(let rootInfo) = status(root), rootInfo.kind == .directory else { throw .notADirectory(root) }
        var listing = Listing()
        var visited: Set<DirectoryID> = [rootInfo.directory]
        var entries = 0
        var pending = [""]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root : root + "/" + relative
            let names: [String]
            do {
                names = try readDirectory(directory)
            } catch {
                listing.unknown.append(relative)
                listing.notes.append(
                    "cannot read the manifest directory \(directory): \(error.text); keeping the objects of its files"
                )
                continue
            }
            for name in names.sorted(by: >) where !name.hasPrefix(".") && !name.hasSuffix("~") {
                let path = relative.isEmpty ? name : relative + "/" + name
                entries += 1
                guard entries <= maxEntries else {
                    listing.unknown = [""]
                    listing.notes.append(
                        "\(root) holds more than \(maxEntries) files and directories; read no further, "
                            + "keeping the objects of the files not reached"
                    )
                    return listing
                }
                switch status(root + "/" + path) {
                case .absent:
                    continue
                case .failed(let code):
                    listing.unknown.append(path)
                    listing.notes.append("cannot stat \(root)/\(path): \(String(cString: strerror(code)))")
                case .found(let info):
                    switch info.kind {
                    case .directory:
                        let depth = path.utf8.reduce(1) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 }
                        if depth > maxDepth {
                            listing.notes.append("skipped \(root)/\(path): deeper than \(maxDepth) levels")
                        } else if visited.insert(info.directory).inserted {
                            pending.append(path)
                        } else {
                            listing.notes.append(
                                "skipped \(root)/\(path): a directory already read (a symbolic link loop, or a "
                                    + "second link to it)"
                            )
                        }
                    case .regular:
                        if let dot = name.lastIndex(of: "."),
                            extensions.contains(String(name[name.index(after: dot)...]).lowercased())
                        {
                            listing.files[path] = info.signature
                        }
                    case .other:
                        continue
                    }
                }
            }
        }
        return listing
    }

    /// The live directory reader: `opendir` and `readdir`, with their `errno` when they fail.
    @Sendable static func readEntries(_ path: String) throws(DirectoryError) -> [String] {
        guard let handle = opendir(path) else { throw DirectoryError(code: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { throw DirectoryError(code: errno) }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    struct DirectoryID: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    struct Status {
        enum Kind { case directory, regular, other }
        var signature: FileSignature
        var kind: Kind
        var directory: DirectoryID
    }

    enum StatusResult {
        case found(Status)
        /// Gone, a dangling link or a link loop: not there.
        case absent
        /// Could not tell (EACCES on a parent, EIO…): its last known content stays.
        case failed(Int32)
    }

    private static func status(_ path: String) -> StatusResult {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            return code == ENOENT || code == ENOTDIR || code == ELOOP || code == ENAMETOOLONG ? .absent : .failed(code)
        }
        #if canImport(Darwin)
        let modified = info.st_mtimespec
        #else
        let modified = info.st_mtim
        #endif
        let signature = FileSignature(
            inode: UInt64(info.st_ino),
            size: Int64(info.st_size),
            modifiedSeconds: Int(modified.tv_sec),
            modifiedNanoseconds: Int(modified.tv_nsec)
        )
        let kind: Status.Kind
        switch info.st_mode & S_IFMT {
        case S_IFDIR: kind = .directory
        case S_IFREG: kind = .regular
        default: kind = .other
        }
        return .found(
            Status(
                signature: signature,
                kind: kind,
                directory: DirectoryID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            )
        )
    }
}
