import ClusterController
@testable import ClusterTunnel
import Foundation
@testable import KubeClient
import MCDNSDaemon
import RecordStore
import Testing

/// Replays every seed and every recorded finding of the fuzz targets (Tests/Fuzz/Seeds/<dir>/ and
/// Tests/Fuzz/Crashes/<dir>/) through each target's own checks, without sanitizers: the `*FuzzEntry.swift` files
/// here are symlinks to the targets' sources in Tests/Fuzz/Sources, compiled against the real modules. A finding
/// committed to Crashes/ thus stays fixed in `swift test`. (The DNS query target has its own replay,
/// IntegrationTests' FuzzCrashReplayTests.)
@Suite struct FuzzReplayTests {
    static let fuzzDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz")

    /// The targets replayed here and their corpus folders, as Tests/Fuzz/run.sh names them.
    static let targets = [
        "KubeJSONFuzz": "kube-json",
        "WatchFramingFuzz": "watch-framing",
        "ManifestFuzz": "manifest",
        "ConfigFuzz": "config",
        "StateFileFuzz": "state-file",
        "TCPFramingFuzz": "tcp-framing",
        "TunnelFuzz": "tunnel",
    ]

    /// Every regular, non-hidden file of Seeds/`dir` and Crashes/`dir`, sorted.
    static func inputs(_ dir: String) -> [String] {
        ["Seeds", "Crashes"].flatMap { folder in
            let directory = fuzzDirectory.appendingPathComponent(folder).appendingPathComponent(dir).path
            let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            return names.filter { !$0.hasPrefix(".") }.sorted().map { "\(directory)/\($0)" }
        }
    }

    static func bytes(_ path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    @Test func everyTargetOfRunShIsReplayedAndSeeded() throws {
        let script = try String(contentsOf: Self.fuzzDirectory.appendingPathComponent("run.sh"), encoding: .utf8)
        let listed = script.split(separator: "\n").compactMap { line -> (String, String)? in
            let fields = line.trimmingCharacters(in: .whitespaces).split(separator: ":")
            guard fields.count == 3, fields[0].hasSuffix("Fuzz"), Int(fields[2]) != nil else { return nil }
            return (String(fields[0]), String(fields[1]))
        }
        #expect(listed.count == Self.targets.count + 1, "run.sh lists \(listed.map(\.0))")
        for (name, dir) in listed where name != "DNSFuzz" {
            #expect(Self.targets[name] == dir, "\(name) (Seeds/\(dir)) has no replay test here")
            #expect(Self.inputs(dir).count >= 3, "Seeds/\(dir) has fewer than 3 seeds")
        }
    }

    /// The fuzz package's light modules are symlinks to parser files in Sources/: a renamed or removed file must
    /// show here, not first in the fuzz build.
    @Test func everyLightModuleFileResolves() throws {
        let light = Self.fuzzDirectory.appendingPathComponent("Sources/Light").path
        let modules = try FileManager.default.contentsOfDirectory(atPath: light)
        #expect(Set(modules) == ["KubeClient", "ClusterController", "MCDNSDaemon", "ClusterTunnel"])
        for module in modules {
            for file in try FileManager.default.contentsOfDirectory(atPath: "\(light)/\(module)") {
                let path = "\(light)/\(module)/\(file)"
                let target = try FileManager.default.destinationOfSymbolicLink(atPath: path)
                #expect(target == "../../../../../Sources/\(module)/\(file)", "\(path) points to \(target)")
                #expect(FileManager.default.fileExists(atPath: path), "\(path) -> \(target) is dangling")
            }
        }
    }

    @Test(arguments: inputs("kube-json"))
    func kubeJSON(input path: String) throws {
        let violation = KubeJSONFuzzEntry.check(try Self.bytes(path))
        #expect(violation == nil, "\(path): \(violation ?? "")")
    }

    @Test(arguments: inputs("watch-framing"))
    func watchFraming(input path: String) throws {
        let violation = WatchFramingFuzzEntry.check(try Self.bytes(path))
        #expect(violation == nil, "\(path): \(violation ?? "")")
    }

    @Test(arguments: inputs("manifest"))
    func manifest(input path: String) throws {
        let violation = ManifestFuzzEntry.check(try Self.bytes(path))
        #expect(violation == nil, "\(path): \(violation ?? "")")
    }

    @Test(arguments: inputs("config"))
    func config(input path: String) throws {
        let violation = ConfigFuzzEntry.check(try Self.bytes(path))
        #expect(violation == nil, "\(path): \(violation ?? "")")
    }

    @Test(arguments: inputs("state-file"))
    func stateFile(input path: String) throws {
        let violation = StateFileFuzzEntry.check(try Self.bytes(path))
        #expect(violation == nil, "\(path): \(violation ?? "")")
    }

    @Test(arguments: inputs("tcp-framing"))
    func tcpFraming(input path: String) throws {
        let violation = TCPFramingFuzzEntry.check(try Self.bytes(path))
        #expect(violation == nil, "\(path): \(violation ?? "")")
    }

    @Test(arguments: inputs("tunnel"))
    func tunnel(input path: String) throws {
        let violation = TunnelFuzzEntry.check(try Self.bytes(path))
        #expect(violation == nil, "\(path): \(violation ?? "")")
    }

    /// The tunnel target stands in for `TunnelServer`'s path check with its own copy of the path.
    @Test func theTunnelTargetUsesTheServersPath() {
        #expect(TunnelFuzzEntry.tunnelPath == TunnelServer.path)
    }

    /// The real seeds get past the parsers, so the fuzzers start from inputs that reach the properties beyond
    /// the typed errors.
    @Test func realSeedsParse() throws {
        func seed(_ path: String) throws -> [UInt8] {
            try Self.bytes(Self.fuzzDirectory.appendingPathComponent("Seeds/\(path)").path)
        }
        let state = try StateFile.decode(Array(try seed("state-file/demo-records.state").dropFirst()), path: "demo")
        #expect(state.records.count >= 3)
        let configuration = try Configuration.parse(
            yaml: String(decoding: try seed("config/examples_demo_mcdns.yaml"), as: UTF8.self),
            file: ConfigFuzzEntry.file
        )
        #expect(configuration.clusters.count >= 2)
        let manifest = try ManifestParser.parse(
            String(decoding: try seed("manifest/examples_demo_members_east-1_web.yaml"), as: UTF8.self),
            file: "web.yaml"
        )
        #expect(!manifest.objects.isEmpty)
        let page = try KubeJSON.fields(try seed("kube-json/10-list-services-limit2-page1"))
        guard case .array(let items)? = page["items"]?.content, case .object(let item)? = items.first?.content else {
            Issue.record("the list seed has no items")
            return
        }
        #expect(try KubeJSON.decode(fields: item, as: .service) != nil)
        let pipelined = Array(try seed("tcp-framing/pipelined-all").dropFirst())
        #expect(TCPFramingFuzzEntry.expectedReply(to: pipelined).count > 12)
        let tunnel = Array(try seed("tunnel/upgrade-preface-settings").dropFirst())
        #expect(
            TunnelFuzzEntry.cleanFramePayloads(afterHeadOf: tunnel)?.starts(with: Array("PRI * HTTP/2.0".utf8)) == true
        )
        let event = try WatchEvent.decode(
            line: try seed("kube-json/20-watch-services-bookmarks-event00"),
            kind: .service
        )
        guard case .added = event else {
            Issue.record("the first recorded watch event decodes as \(event)")
            return
        }
    }
}
