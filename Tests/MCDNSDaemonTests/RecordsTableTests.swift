import Foundation
@testable import MCDNSCommands
import Testing

/// Issue 18: `mcdns records` answers which clusters serve each record and what is wrong with it, through the real
/// command against a running daemon on the demo members.
@Suite(.serialized) struct RecordsTableTests {
    /// The rows of a kubectl-style table as header → cell, cut at the header's column starts.
    static func rows(_ text: String) -> [[String: String]] {
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("serial ") }
        guard let header = lines.first else { return [] }
        var starts: [(String, String.Index)] = []
        var searchFrom = header.startIndex
        for name in header.components(separatedBy: "   ").map({ $0.trimmingCharacters(in: .whitespaces) })
        where !name.isEmpty {
            let range = header.range(of: name, range: searchFrom..<header.endIndex)!
            starts.append((name, range.lowerBound))
            searchFrom = range.upperBound
        }
        return lines.dropFirst().map { line in
            var row: [String: String] = [:]
            for (index, (name, start)) in starts.enumerated() {
                let offset = header.distance(from: header.startIndex, to: start)
                let end =
                    index + 1 < starts.count
                    ? header.distance(from: header.startIndex, to: starts[index + 1].1) : line.count
                guard offset < line.count else {
                    row[name] = ""
                    continue
                }
                let from = line.index(line.startIndex, offsetBy: offset)
                let to = line.index(line.startIndex, offsetBy: min(end, line.count))
                row[name] = String(line[from..<to]).trimmingCharacters(in: .whitespaces)
            }
            return row
        }
    }

    static func table(_ daemon: ServedDaemon, _ extra: [String] = []) throws -> [String: [String: String]] {
        let result = try OperateEndToEndTests.mcdns(["records", "--admin", daemon.admin] + extra)
        #expect(result.status == 0, "\(result.stderr)")
        return Dictionary(uniqueKeysWithValues: rows(result.stdout).map { ($0["NAME"] ?? "", $0) })
    }

    @Test(.timeLimit(.minutes(3)))
    func theTableNamesTheServingClustersAndOnlyProblems() async throws {
        let daemon = try await ServedDaemon.start()
        defer { daemon.remove() }
        var rows = try Self.table(daemon)
        for _ in 0..<100 where rows["web"]?["CLUSTERS"] != "east-1,east-2,west-1" {
            try await Task.sleep(for: .milliseconds(100))
            rows = try Self.table(daemon)
        }
        let web = try #require(rows["web"])
        #expect(web["READY"] == "True")
        #expect(web["CLUSTERS"] == "east-1,east-2,west-1")
        #expect(web["PORTS"] == "http:80/TCP")
        #expect(web["STRATEGY"] == "nearest")
        #expect(web["NOTES"] == "", "a healthy record has no notes, not `Ready=True` as a condition count")
        #expect(rows["db"]?["CLUSTERS"] == "east-1,west-1")
        #expect(rows["legacy"]?["READY"] == "True" && rows["legacy"]?["NOTES"] == "")
        #expect(rows.values.allSatisfy { !($0["NOTES"] ?? "").contains("condition") })
        #expect(rows["web"]?["KIND"] == nil, "KIND and TTL are for -o wide")

        let wide = try Self.table(daemon, ["-o", "wide"])
        #expect(wide["web"]?["KIND"] == "loadBalancer")
        #expect(wide["web"]?["TTL"] == "30")
        #expect(wide["web"]?["REGIONS"] == "us-east-1,us-west-2")
        #expect(wide["web"]?["ZONES"] == "us-east-1a,us-east-1b,us-west-2a")
        #expect(wide["db"]?["KIND"] == "headless")
        #expect(wide["legacy"]?["KIND"] == "external")

        // A port that differs in east-2 is a conflict, in words.
        let api = daemon.dir.path + "/members/east-2/api.yaml"
        let text = try String(contentsOfFile: api, encoding: .utf8)
        try text.replacingOccurrences(of: "port: 9090\n---", with: "port: 9091\n---")
            .write(toFile: api, atomically: true, encoding: .utf8)
        // west-1 disconnects: its targets are last-known.
        try FileManager.default.moveItem(atPath: daemon.dir.path + "/members/west-1",
                                         toPath: daemon.dir.path + "/west-1.away")
        for _ in 0..<100
        where !(rows["api"]?["NOTES"] ?? "").contains("conflict") || !(rows["web"]?["NOTES"] ?? "").contains("stale")
        {
            try await Task.sleep(for: .milliseconds(100))
            rows = try Self.table(daemon)
        }
        let apiNotes = try #require(rows["api"]?["NOTES"])
        #expect(apiNotes.contains("conflict: ports differ across clusters"), "\(apiNotes)")
        #expect(apiNotes.contains("stale: west-1 (last-known targets)"), "\(apiNotes)")
        #expect(!apiNotes.contains("Ready"), "\(apiNotes)")
        #expect(!apiNotes.contains("MemberStale"), "the stale member is said once, in words: \(apiNotes)")
        #expect(rows["web"]?["NOTES"] == "stale: west-1 (last-known targets)")
        #expect(rows["web"]?["CLUSTERS"] == "east-1,east-2,west-1", "a stale member still serves")
        #expect(await daemon.stop() == 0)
    }

    @Test func manyClustersAreShortened() {
        #expect(RecordsCommand.clusters(["east-1", "east-2", "east-3"], all: false) == "east-1,east-2,east-3")
        #expect(
            RecordsCommand.clusters(["east-1", "east-2", "east-3", "west-1", "west-2"], all: false)
                == "east-1,east-2 +3"
        )
        #expect(RecordsCommand.clusters(["a", "b", "c", "d"], all: true) == "a,b,c,d")
        #expect(RecordsCommand.clusters([], all: false) == "<none>")
    }
}
