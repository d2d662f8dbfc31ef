@testable import ClusterController
import Foundation
import KubeClient
import Testing
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The poller step by step, without timing: which poll emits what.
@Suite("Manifest directory polling")
struct ManifestDirectoryTests {
    static let webRef = KubeObjectRef(kind: .service, namespace: "shop", name: "web")

    func kinds(_ events: [MemberEvent]) -> [String] {
        events.map { event in
            switch event {
            case .upsert(let object): return "upsert \(object.ref)"
            case .delete(let ref): return "delete \(ref)"
            case .problem: return "problem"
            default: return "\(event)"
            }
        }
    }

    @Test func changesAreActedOnOnceTwoPollsAgree() throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        var poller = ManifestDirectory(root: directory.path)

        // The first poll reads everything at once.
        #expect(kinds(try poller.poll().events) == ["upsert Service shop/web"])
        #expect(try poller.poll().events.isEmpty)

        // Deleted and re-created between polls (an editor's save): the gap is never emitted as a delete.
        try directory.remove("web.yaml")
        #expect(try poller.poll().events.isEmpty)
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.2"))
        #expect(try poller.poll().events.isEmpty)
        #expect(kinds(try poller.poll().events) == ["upsert Service shop/web"])

        // A real delete: emitted on the second poll that sees it.
        try directory.remove("web.yaml")
        #expect(try poller.poll().events.isEmpty)
        #expect(kinds(try poller.poll().events) == ["delete Service shop/web"])
    }

    @Test func brokenVersionKeepsTheLastGoodObjectsAndIsReportedOnce() throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        var poller = ManifestDirectory(root: directory.path)
        _ = try poller.poll()

        try directory.write("web.yaml", "kind: [\n")
        #expect(try poller.poll().events.isEmpty)
        let reported = try poller.poll().events
        #expect(kinds(reported) == ["problem"])
        #expect(try poller.poll().events.isEmpty)
        #expect(poller.emitted[Self.webRef] != nil)
    }

    @Test func duplicateDefinitionsUseTheFirstFile() throws {
        let directory = try TemporaryDirectory()
        try directory.write("a.yaml", Manifests.service("web", ip: "10.0.0.1"))
        try directory.write("b.yaml", Manifests.service("web", ip: "10.0.0.2"))
        var poller = ManifestDirectory(root: directory.path)
        let events = try poller.poll().events
        #expect(kinds(events) == ["problem", "upsert Service shop/web"])
        guard case .service(let service)? = poller.emitted[Self.webRef] else {
            Issue.record("web not emitted")
            return
        }
        #expect(service.clusterIPs == ["10.0.0.1"])
    }

    @Test func missingDirectoryIsUnavailable() {
        var poller = ManifestDirectory(root: "/nonexistent/mcdns-test")
        #expect(throws: ManifestDirectory.Unavailable.notADirectory("/nonexistent/mcdns-test")) { try poller.poll() }
    }
}

/// Issue 22, findings 2 to 4: what a manifest directory must survive.
@Suite("Manifest directory under abuse", .serialized)
struct ManifestDirectoryAbuseTests {
    static let webRef = KubeObjectRef(kind: .service, namespace: "shop", name: "web")

    static func problems(_ events: [MemberEvent]) -> [String] {
        events.compactMap { if case .problem(let message) = $0 { message } else { nil } }
    }

    static func deletes(_ events: [MemberEvent]) -> Int {
        events.filter { if case .delete = $0 { true } else { false } }.count
    }

    /// Finding 3: `ln -s . loop` made the walk read the tree again under loop/, loop/loop/… (40 levels, until
    /// the kernel's ELOOP), each copy a duplicate definition; with two such links the walk was exponential.
    @Test func aSymbolicLinkLoopIsReadOnce() throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        #expect(symlink(".", directory.path + "/loop") == 0)
        var poller = ManifestDirectory(root: directory.path)
        let events = try poller.poll().events
        #expect(events.filter { if case .upsert = $0 { true } else { false } }.count == 1)
        let problems = Self.problems(events)
        #expect(
            problems == [
                "skipped \(directory.path)/loop: a directory already read (a symbolic link loop, or a second link to it)"
            ]
        )
        // Reported once, not every poll.
        #expect(try poller.poll().events.isEmpty)
    }

    @Test(.timeLimit(.minutes(1)))
    func twoLoopsAndALinkUpAreReadOnce() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/sub", withIntermediateDirectories: true)
        try directory.write("sub/web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        #expect(symlink(".", directory.path + "/loop") == 0)
        #expect(symlink(".", directory.path + "/loop2") == 0)
        #expect(symlink("..", directory.path + "/sub/up") == 0)
        var poller = ManifestDirectory(root: directory.path)
        let events = try poller.poll().events
        #expect(Array(poller.emitted.keys) == [Self.webRef])
        #expect(Self.problems(events).count == 3, "\(Self.problems(events))")
    }

    @Test func theWalkIsBoundedInDepth() throws {
        let directory = try TemporaryDirectory()
        let deep = (1...20).map { "d\($0)" }.joined(separator: "/")
        try FileManager.default.createDirectory(atPath: directory.path + "/" + deep, withIntermediateDirectories: true)
        try directory.write(deep + "/web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        try directory.write("d1/d2/other.yaml", Manifests.service("other", ip: "10.0.0.2"))
        var poller = ManifestDirectory(root: directory.path)
        let events = try poller.poll().events
        #expect(poller.emitted.keys.map(\.name) == ["other"])
        #expect(Self.problems(events).first?.contains("deeper than 16 levels") == true)
    }

    /// Finding 4: with every file descriptor in use, `contentsOfDirectory` failed and the directory counted as
    /// empty: every service of the member was withdrawn. Here the process really runs out (RLIMIT_NOFILE).
    @Test func runningOutOfFileDescriptorsWithdrawsNothing() throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        var poller = ManifestDirectory(root: directory.path)
        #expect(try poller.poll().events.count == 1)

        var limit = rlimit()
        #expect(getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        let saved = limit
        // Lower the soft limit to just above the highest descriptor in use, then fill every gap below it.
        let open = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { Int32($0) }
        limit.rlim_cur = rlim_t((open.max() ?? 2) + 1)
        #expect(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0)
        var filler: [Int32] = []
        while true {
            let fd = dup(2)
            if fd < 0 { break }
            filler.append(fd)
        }
        let exhausted = errno
        var outage: [MemberEvent] = []
        for _ in 0..<3 { outage += (try? poller.poll().events) ?? [] }
        for fd in filler { close(fd) }
        var restore = saved
        #expect(setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &restore) == 0)

        #expect(exhausted == EMFILE)
        #expect(Self.deletes(outage) == 0, "\(outage)")
        #expect(poller.emitted[Self.webRef] != nil)
        let problems = Self.problems(outage)
        #expect(problems.count == 1 && problems.first?.contains("Too many open files") == true, "\(problems)")
        // Back to normal: nothing changed, nothing emitted.
        #expect(try poller.poll().events.isEmpty)
        #expect(try poller.poll().events.isEmpty)
    }

    /// Any error of a directory read (here EIO from an injected reader, in a subdirectory) keeps the files known
    /// under it; files elsewhere still change, and once it reads again a real removal is acted on.
    @Test func anUnreadableSubdirectoryKeepsItsFiles() throws {
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path + "/east", withIntermediateDirectories: true)
        try directory.write("east/web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        try directory.write("other.yaml", Manifests.service("other", ip: "10.0.0.2"))
        let failing = Mutex(false)
        let east = directory.path + "/east"
        var poller = ManifestDirectory(root: directory.path) { path throws(ManifestDirectory.DirectoryError) in
            if path == east, failing.withLock({ $0 }) { throw ManifestDirectory.DirectoryError(code: EIO) }
            return try ManifestDirectory.readEntries(path)
        }
        #expect(try poller.poll().events.count == 2)
        failing.withLock { $0 = true }
        try directory.remove("other.yaml")
        var events: [MemberEvent] = []
        for _ in 0..<3 { events += try poller.poll().events }
        #expect(events.count == 2, "\(events)")
        #expect(
            Self.problems(events) == [
                "cannot read the manifest directory \(east): Input/output error; keeping the objects of its files"
            ]
        )
        #expect(Self.deletes(events) == 1 && poller.emitted.keys.map(\.name) == ["web"])
        failing.withLock { $0 = false }
        try directory.remove("east/web.yaml")
        events = []
        for _ in 0..<2 { events += try poller.poll().events }
        #expect(Self.deletes(events) == 1 && poller.emitted.isEmpty)
    }

    /// Finding 2 in a directory: the bomb is a broken version of the file, whose last good content keeps serving.
    @Test func aBillionLaughsFileKeepsTheLastGoodContent() throws {
        let directory = try TemporaryDirectory()
        try directory.write("web.yaml", Manifests.service("web", ip: "10.0.0.1"))
        var poller = ManifestDirectory(root: directory.path)
        _ = try poller.poll()
        try directory.write(
            "web.yaml",
            Manifests.service("web", ip: "10.0.0.9") + "\n---\n" + Manifests.laughs(levels: 10)
        )
        var events: [MemberEvent] = []
        for _ in 0..<3 { events += try poller.poll().events }
        let problems = Self.problems(events)
        #expect(problems.count == 1 && problems[0].contains("web.yaml:"), "\(problems)")
        #expect(problems.first?.contains("expands to more than 1000000 nodes") == true)
        guard case .service(let service)? = poller.emitted[Self.webRef] else {
            Issue.record("web withdrawn")
            return
        }
        #expect(service.clusterIPs == ["10.0.0.1"])
    }
}
