import DNSAnswer
import DNSWire
import Foundation
import Testing

/// Replays the DNS fuzzer's findings (Tests/Fuzz/Crashes/dns/) and its seeds (Tests/Fuzz/Seeds/dns/) through
/// `AnswerTable.respond`, over UDP and TCP, with the invariants the fuzz target checks (Tests/Fuzz/Sources/DNSFuzz):
/// a crash found once stays fixed.
@Suite struct FuzzCrashReplayTests {
    static let fuzzDirectory = TestZones.packageRoot.appendingPathComponent("Tests/Fuzz")

    /// Every regular, non-hidden file of `folder`, sorted.
    static func inputs(in folder: String) -> [String] {
        let directory = fuzzDirectory.appendingPathComponent(folder).path
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") }.sorted().map { "\(directory)/\($0)" }
    }

    static let table: AnswerTable? = {
        let zones = try? TestZones.all.map { zone throws(SourceError) in try ZoneFile.load(path: zone.path) }
        return zones.flatMap { try? AnswerTable.compile(zones: $0, serial: 1) }
    }()

    @Test func theTestZonesCompile() throws {
        let zones = try TestZones.all.map { zone throws(SourceError) in try ZoneFile.load(path: zone.path) }
        let table = try AnswerTable.compile(zones: zones, serial: 1)
        #expect(table.nameCount > 50)
    }

    @Test func seedCorpusIsPresent() {
        #expect(Self.inputs(in: "Seeds/dns").count >= 10)
    }

    @Test(arguments: inputs(in: "Crashes/dns") + inputs(in: "Seeds/dns"))
    func replay(input path: String) throws {
        let table = try #require(Self.table)
        let query = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        for (transport, capacity) in [(Transport.udp, table.options.maxUDPPayload), (Transport.tcp, 65535)] {
            let output = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
            defer { output.deallocate() }
            let length = query.withUnsafeBytes { table.respond(to: $0, transport: transport, into: output) }
            let violation = Self.violation(
                query: query,
                response: Array(output.prefix(max(0, min(length, capacity)))),
                length: length,
                capacity: capacity
            )
            #expect(violation == nil, "\(path) over \(transport): \(violation ?? "")")
        }
    }

    /// The fuzz target's invariants (keep in step with `checkResponse` in Tests/Fuzz/Sources/DNSFuzz/main.swift).
    static func violation(query: [UInt8], response: [UInt8], length: Int, capacity: Int) -> String? {
        if length == 0 { return nil }
        if length < 0 || length > capacity { return "response length \(length) outside 0...\(capacity)" }
        if query.count < 12 { return "answered a \(query.count)-byte packet, shorter than a header" }
        if length < 12 { return "response of \(length) bytes, shorter than a header" }
        if response[0] != query[0] || response[1] != query[1] { return "response ID differs from the query ID" }
        if response[2] & 0x80 == 0 { return "QR not set in the response" }
        if query[2] & 0x80 != 0 { return "answered a packet that is itself a response (QR=1)" }
        let qdcount = Int(response[4]) << 8 | Int(response[5])
        if qdcount > 1 { return "response with \(qdcount) questions" }
        return nil
    }
}
