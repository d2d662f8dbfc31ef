// libFuzzer entry point: every input is a query packet, answered by the compiled AnswerTable of the
// differential-test zones over UDP and over TCP. A crash, a sanitizer report or a broken invariant (see
// `checkResponse`) is a finding; run.sh copies the input to Tests/Fuzz/Crashes/, and IntegrationTests replays
// every file there (FuzzCrashReplayTests, which checks the same invariants).
import DNSAnswer
import DNSWire

#if canImport(Glibc)
import Glibc
#endif

/// The table, compiled once on first use: the zones of Tests/IntegrationTests/Zones, which cover every kind of
/// answer (CNAME chains, wildcards, delegations, truncation-sized RRsets).
let table: AnswerTable = {
    // #filePath is .../Tests/Fuzz/Sources/DNSFuzz/main.swift; the zones are in .../Tests/IntegrationTests/Zones.
    let testsDir = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(4)
        .joined(separator: "/")
    let zonesDir = testsDir + "/IntegrationTests/Zones"
    do {
        let zones = try ["diff.test", "other.test"].map { name throws(SourceError) in
            try ZoneFile.load(path: "\(zonesDir)/\(name).zone")
        }
        return try AnswerTable.compile(zones: zones, serial: 1)
    } catch {
        fatalError("cannot build the fuzz table from \(zonesDir): \(error)")
    }
}()

/// Output buffers of exactly the documented minimum sizes, so AddressSanitizer catches any write past them.
/// libFuzzer calls the entry point from one thread, so sharing them is safe.
nonisolated(unsafe) let udpOutput = UnsafeMutableRawBufferPointer.allocate(
    byteCount: table.options.maxUDPPayload,
    alignment: 8
)
nonisolated(unsafe) let tcpOutput = UnsafeMutableRawBufferPointer.allocate(byteCount: 65535, alignment: 8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    // Copy into an exactly-sized heap buffer: a read past the input's end is then an ASan report.
    let query = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
    defer { query.deallocate() }
    if let start, count > 0 { query.copyMemory(from: UnsafeRawBufferPointer(start: start, count: count)) }
    let input = UnsafeRawBufferPointer(query)
    // What the UDP loop prefetches before answering reads the same untrusted bytes (DESIGN §8).
    if let hash = table.lookupHash(of: input) {
        _ = table.directoryAddress(ofHash: hash)
        _ = table.shardAddress(ofHash: hash)
    }
    for (transport, output) in [(Transport.udp, udpOutput), (Transport.tcp, tcpOutput)] {
        let length = table.respond(to: input, transport: transport, into: output)
        if let violation = checkResponse(query: input, length: length, capacity: output.count, output: output) {
            fatalError("\(transport): \(violation)")
        }
    }
    return 0
}

/// The invariants every response must keep; nil when they hold.
func checkResponse(
    query: UnsafeRawBufferPointer,
    length: Int,
    capacity: Int,
    output: UnsafeMutableRawBufferPointer
) -> String? {
    if length == 0 { return nil }
    if length < 0 || length > capacity { return "response length \(length) outside 0...\(capacity)" }
    if query.count < 12 { return "answered a \(query.count)-byte packet, shorter than a header" }
    if length < 12 { return "response of \(length) bytes, shorter than a header" }
    if output[0] != query[0] || output[1] != query[1] { return "response ID differs from the query ID" }
    if output[2] & 0x80 == 0 { return "QR not set in the response" }
    if query[2] & 0x80 != 0 { return "answered a packet that is itself a response (QR=1)" }
    let qdcount = Int(output[4]) << 8 | Int(output[5])
    if qdcount > 1 { return "response with \(qdcount) questions" }
    return nil
}
