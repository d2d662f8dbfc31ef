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

    static let extensions: Set<String> = ["yaml", "yml", "json"]

    let root: String
    private(set) var files: [String: FileEntry] = [:]
    /// The object each ref currently has in the member's view, i.e. what the source has emitted.
    private(set) var emitted: [KubeObjectRef: KubeObject] = [:]
    /// Signatures of broken file versions already reported, so a broken file is logged once, not every poll.
    private var reportedBroken: [String: FileSignature] = [:]
    /// Changes seen by the last poll and not yet acted on: a path's new signature, or nil when it vanished.
    private var pending: [String: FileSignature?] = [:]
    private var polledOnce = false

    init(root: String) {
        self.root = root
    }

    struct PollResult {
        /// Upserts and deletes that bring a consumer up to date, and `problem`s for files that do not parse or
        /// objects defined twice.
        var events: [MemberEvent] = []
        /// Objects of kinds mcdns does not read, in the files re-read by this poll (`file:line kind name`).
        var ignored: [String] = []
    }

    /// Re-reads what changed since the last poll.
    mutating func poll() throws(Unavailable) -> PollResult {
        let listing = try Self.list(root)
        var result = PollResult()
        var touched: Set<KubeObjectRef> = []

        var nextPending: [String: FileSignature?] = [:]
        for path in Set(listing.keys).union(files.keys).sorted() {
            let signature = listing[path]
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
        let listing: [String: FileSignature]
        do {
            listing = try list(root)
        } catch {
            return ([], [ManifestError(file: root, line: nil, message: "not a readable directory")])
        }
        var objects: [KubeObject] = []
        var errors: [ManifestError] = []
        for path in listing.keys.sorted() {
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
            return .failure(ManifestError(file: full, line: nil, message: "cannot be read: \(error.localizedDescription)"))
        }
        guard data.count <= limit else {
            return .failure(
                ManifestError(file: full, line: nil, message: "larger than the limit of \(limit) bytes; split it into files")
            )
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

    /// Manifest files under `root` (recursively, relative paths), skipping hidden files and directories (editor
    /// swap files, and Kubernetes ConfigMap mounts' `..data` twins of the visible names).
    private static func list(_ root: String) throws(Unavailable) -> [String: FileSignature] {
        guard let rootInfo = signature(root), rootInfo.isDirectory else { throw .notADirectory(root) }
        var result: [String: FileSignature] = [:]
        var pending = [""]
        while let relative = pending.popLast() {
            let directory = relative.isEmpty ? root : root + "/" + relative
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { continue }
            for name in names where !name.hasPrefix(".") && !name.hasSuffix("~") {
                let path = relative.isEmpty ? name : relative + "/" + name
                guard let info = signature(root + "/" + path) else { continue }
                if info.isDirectory {
                    pending.append(path)
                } else if let dot = name.lastIndex(of: "."),
                    extensions.contains(String(name[name.index(after: dot)...]).lowercased())
                {
                    result[path] = info.signature
                }
            }
        }
        return result
    }

    private static func signature(_ path: String) -> (signature: FileSignature, isDirectory: Bool)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
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
        return (signature, (info.st_mode & S_IFMT) == S_IFDIR)
    }
}
