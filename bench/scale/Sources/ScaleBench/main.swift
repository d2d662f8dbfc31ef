import CHeapStats
import ClusterController
import DNSAnswer
import DNSWire
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeClient
import Logging
import MCDNSModel
import RecordStore

// Scale benchmark (issue 3): N members × M headless services with three endpoints each, fed through the real
// controller (merge, coalescing) into the real RecordStore/LiveTable. Prints the time to the first complete table,
// RSS, bytes per endpoint, and the latency from one changed EndpointSlice to the changed DNS answer, measured by
// querying the published table until the new address shows.

let usage = """
    usage: bench/scale.sh [--members N] [--services M] [--changes C] [--controller-only 1] [--upserts 1]
      --members N          member clusters (default 20)
      --services M         exported headless services per member, three endpoints each (default 5000)
      --changes C          EndpointSlice changes timed from the change to the DNS answer (default 1000)
      --controller-only 1  the record sink only counts: the controller's share of the memory alone
      --upserts 1          send each member's objects one upsert event at a time, not as one list per kind (as
                           the Kubernetes source sends what it lists)
    Prints the time to the first complete answer table, RSS and bytes per endpoint, compile latency, and the
    p50/p99 latency from a changed EndpointSlice to the changed DNS answer. Run by hand, never from make test.
    """

func option(_ name: String, _ fallback: Int) -> Int {
    let args = CommandLine.arguments
    guard let index = args.firstIndex(of: "--" + name) else { return fallback }
    guard index + 1 < args.count, let value = Int(args[index + 1]), value >= 0 else {
        FileHandle.standardError.write(Data("--\(name) needs a whole number\n\n\(usage)\n".utf8))
        exit(2)
    }
    return value
}

let known: Set<String> = ["--members", "--services", "--changes", "--controller-only", "--upserts"]
for (index, argument) in CommandLine.arguments.enumerated().dropFirst() where argument.hasPrefix("-") {
    if argument == "-h" || argument == "--help" {
        print(usage)
        exit(0)
    }
    if !known.contains(argument) && !(index > 0 && known.contains(CommandLine.arguments[index - 1])) {
        FileHandle.standardError.write(Data("unknown option \(argument)\n\n\(usage)\n".utf8))
        exit(2)
    }
}

let members = option("members", 20)
let servicesPerMember = option("services", 5000)
let changes = option("changes", 1000)
/// `--controller-only 1`: the sink only counts, to tell the controller's share of the memory from the table's.
let controllerOnly = option("controller-only", 0) == 1
/// `--upserts 1`: the first state as one event per object. By default a member's Services and EndpointSlices come
/// as one list per kind (`.replace`), as `KubeMemberSource` sends what its reflectors list; sent one by one from
/// 20 producers faster than the controller takes them, the buffered events' memory interleaves with the cache's,
/// and the holes they leave raise the RSS (not the heap in use) by about 110 bytes per endpoint.
let upserts = option("upserts", 0) == 1

func rssBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let kb = line.split(separator: " ").compactMap { Int($0) }.first ?? 0
        return kb * 1024
    }
    return 0
}

func address(member: Int, service: Int, endpoint: Int) -> String {
    // 10.<member>.<service high>.<service low*... > kept unique per endpoint.
    let n = service * 4 + endpoint
    return "10.\(member).\(n / 256 % 256).\(n % 256)" + (n >= 65536 ? "" : "")
}

func slice(member: Int, service: Int, addresses: [String]) -> KubeObject {
    .endpointSlice(KubeEndpointSlice(
        metadata: KubeObjectMeta(namespace: "bench", name: "s\(service)-abc"), serviceName: "s\(service)",
        addressType: .ipv4, endpoints: addresses.map { KubeEndpointSlice.Endpoint(addresses: [$0], ready: true) },
        ports: [KubeEndpointSlice.Port(name: "http", protocol: "TCP", port: 8080)]))
}

/// Each member owns distinct services (`s<member*M+i>`), so the table holds N × M services.
struct BenchSource: MemberSource {
    let cluster: ClusterID
    let index: Int
    let changes: AsyncStream<MemberEvent>

    func run(events: MemberEventSink) async throws {
        events.send(.upsert(.node(KubeNode(name: "node-\(index)", region: "r\(index % 4)", zone: "r\(index % 4)z\(index % 3)"))))
        func service(_ i: Int) -> KubeObject {
            .service(KubeService(
                metadata: KubeObjectMeta(namespace: "bench", name: "s\(index * servicesPerMember + i)"), headless: true,
                ports: [KubeService.Port(name: "http", port: 80)]))
        }
        func endpoints(_ i: Int) -> KubeObject {
            slice(member: index, service: index * servicesPerMember + i,
                  addresses: (0..<3).map { address(member: index, service: i, endpoint: $0) })
        }
        if upserts {
            for i in 0..<servicesPerMember {
                events.send(.upsert(service(i)))
                events.send(.upsert(endpoints(i)))
            }
        } else {
            events.send(.replace(.service, (0..<servicesPerMember).map(service)))
            events.send(.replace(.endpointSlice, (0..<servicesPerMember).map(endpoints)))
        }
        events.send(.synced)
        for await event in changes { events.send(event) }
    }
}

/// Forwards to the store and notes when every service has been published once.
final class CountingSink: ServiceRecordSink, @unchecked Sendable {
    let store: RecordStore
    let lock = NSLock()
    /// Which services were published, by number (`s<n>`): a bit array, not a `Set<ServiceKey>`, whose 3.5 MB
    /// at 100,000 services counted in the RSS the bench reports as mcdns's (35 bytes per endpoint).
    var seen: [Bool]
    var seenCount = 0
    var compileMilliseconds: [Double] = []
    /// Batches that carried a member list change, and the compile time spent on them.
    var memberBatches = 0
    var memberBatchMilliseconds = 0.0
    init(store: RecordStore, services: Int) {
        self.store = store
        self.seen = Array(repeating: false, count: services)
    }
    func apply(_ changes: RecordChanges) async {
        let started = ContinuousClock.now
        if !controllerOnly { await store.apply(changes) }
        let took = ContinuousClock.now - started
        lock.withLock {
            for record in changes.upserted {
                if let n = Int(record.key.name.dropFirst()), n < seen.count, !seen[n] {
                    seen[n] = true
                    seenCount += 1
                }
            }
            let milliseconds = Double(took.components.seconds) * 1000 + Double(took.components.attoseconds) / 1e15
            compileMilliseconds.append(milliseconds)
            if changes.clusters != nil {
                memberBatches += 1
                memberBatchMilliseconds += milliseconds
            }
        }
    }
    var count: Int { lock.withLock { seenCount } }
}

let zoneText = """
    $ORIGIN example.com.
    @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 60
    @ 300 IN NS ns1
    ns1 300 IN A 192.0.2.1

    """
let clustersetText = """
    $ORIGIN clusterset.local.
    @ 30 IN SOA ns hostmaster 1 7200 3600 1209600 5
    @ 30 IN NS ns
    ns 30 IN A 192.0.2.2

    """

var logger = Logger(label: "bench")
logger.logLevel = .warning
let naming = NamingConfiguration(federationName: "acme", federationDomain: try DomainName("example.com"),
                                 clustersetDomain: try DomainName("clusterset.local"))
let zones = [ZoneFile.parse(zoneText, origin: try DomainName("example.com")).0!,
             ZoneFile.parse(clustersetText, origin: try DomainName("clusterset.local")).0!]
// As `mcdns serve` does first (RecordStore.HeapArenas), unless MALLOC_ARENA_MAX is set.
HeapArenas.limit()
let rssBefore = rssBytes()
let heapBefore = heap_stats_in_use()
let store = try RecordStore(live: try LiveTable(zones: zones, naming: naming), firstSerial: 1, logger: logger)
let sink = CountingSink(store: store, services: members * servicesPerMember)

var continuations: [AsyncStream<MemberEvent>.Continuation] = []
var sources: [any MemberSource] = []
var memberConfigs: [MemberConfiguration] = []
for m in 0..<members {
    let (stream, continuation) = AsyncStream<MemberEvent>.makeStream()
    continuations.append(continuation)
    sources.append(BenchSource(cluster: ClusterID("m\(m)"), index: m, changes: stream))
    memberConfigs.append(MemberConfiguration(name: ClusterID("m\(m)"), region: nil, zones: nil,
                                             source: .manifests(path: "/nonexistent")))
}
let configuration = ControllerConfiguration(members: memberConfigs, export: ExportPolicy(namespaces: ["bench"]))
let controller = try ClusterController(configuration: configuration, sources: sources, sink: sink, logger: logger,
                                       clock: ContinuousClock())

let total = members * servicesPerMember
print("mcdns scale bench: \(members) members × \(servicesPerMember) services × 3 endpoints = \(total) services, \(total * 3) endpoints")
print(upserts ? "first state: one upsert event per object" : "first state: one list per member and kind, as the Kubernetes source sends it")
let started = ContinuousClock.now
let runner = Task { try await controller.run() }
while sink.count < total {
    try await Task.sleep(for: .milliseconds(20))
}
let firstTable = ContinuousClock.now - started
// Read in a function: a global holding the first table would keep every shard the changes below replace alive
// (that showed as half the shards' size again in "RSS after changes").
func tableSize() -> (names: Int, bytes: Int) {
    let table = store.current()
    return (table.nameCount, table.compiledByteCount)
}
let (nameCount, compiledBytes) = tableSize()
let rssUntrimmed = rssBytes()
// Freed memory glibc still keeps (garbage of the last, small batches of the first table) is not the footprint.
// malloc.h is not in Glibc's module map: look malloc_trim up.
func mallocTrim() {
    if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "malloc_trim") {
        _ = unsafeBitCast(symbol, to: (@convention(c) (Int) -> Int32).self)(0)
    }
}
mallocTrim()
let rss = rssBytes()
print(String(format: "RSS as the store left it (it trims after batches of 1,000+ changes): %.1f MiB; after a final malloc_trim:",
             Double(rssUntrimmed) / 1048576))
print("time to first complete answer table: \(firstTable)")
sink.lock.withLock {
    print(String(format: "  %d batches, %.1f s compiling; %d of them with member changes (link, locality): %.1f s",
                 sink.compileMilliseconds.count, sink.compileMilliseconds.reduce(0, +) / 1000, sink.memberBatches,
                 sink.memberBatchMilliseconds / 1000))
}
print("names in table: \(nameCount)")
print(String(format: "compiled shards: %.1f MiB (%.0f bytes per name)", Double(compiledBytes) / 1048576,
             Double(compiledBytes) / Double(max(nameCount, 1))))
print("  by section, bytes per name: " + store.current().compiledSectionBytes.map { name, bytes in
    String(format: "%@ %.1f", name, Double(bytes) / Double(max(nameCount, 1)))
}.joined(separator: ", "))
if controllerOnly { print("controller only: the records were merged but not compiled") }
print(String(format: "RSS: %.1f MiB (%.1f MiB over the empty store); %.0f bytes per endpoint",
             Double(rss) / 1048576, Double(rss - rssBefore) / 1048576, Double(rss - rssBefore) / Double(total * 3)))
// The heap in use (mallinfo2) beside RSS: RSS also counts what malloc holds free in partly used pages, which moves
// by tens of MiB between runs of the same build (the controller's and the compiler's threads interleave).
let heapInUse = heap_stats_in_use()
print(String(format: "heap in use: %.1f MiB over the empty store; %.0f bytes per endpoint (malloc holds %.1f MiB in all)",
             Double(heapInUse - heapBefore) / 1048576, Double(heapInUse - heapBefore) / Double(total * 3),
             Double(heap_stats_held()) / 1048576))

if controllerOnly { exit(0) }

// Change latency: one EndpointSlice at a time, then query until the answer shows the new address.
var latencies: [Double] = []
var output = [UInt8](repeating: 0, count: 65535)
var generator = SystemRandomNumberGenerator()
for change in 0..<changes {
    let member = Int.random(in: 0..<members, using: &generator)
    let i = Int.random(in: 0..<servicesPerMember, using: &generator)
    let service = member * servicesPerMember + i
    let fresh = "10.\(200 + change / 65536 % 50).\(change / 256 % 256).\(change % 256)"
    let addresses = [fresh, address(member: member, service: i, endpoint: 1), address(member: member, service: i, endpoint: 2)]
    let query = try Message.query(name: try DomainName("s\(service).bench.acme.svc.example.com"), type: .a)
    let expected = fresh.split(separator: ".").map { UInt8($0)! }
    let t0 = ContinuousClock.now
    continuations[member].yield(.upsert(slice(member: member, service: service, addresses: addresses)))
    // As the servers read it: the generation is one atomic load; the table (behind a lock) only when it moved.
    var generation = store.generation
    var current = store.current()
    while true {
        if store.generation != generation {
            generation = store.generation
            current = store.current()
        }
        let length = query.withUnsafeBytes { q in
            output.withUnsafeMutableBytes { current.respond(to: q, transport: .tcp, into: $0) }
        }
        if output[..<length].windowsContains(expected) { break }
        if ContinuousClock.now - t0 > .seconds(5) { print("change \(change) not seen after 5 s"); break }
        try await Task.sleep(for: .microseconds(50))
    }
    let elapsed = ContinuousClock.now - t0
    latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
}
latencies.sort()
let compiles = sink.lock.withLock { Array(sink.compileMilliseconds.suffix(latencies.count)).sorted() }
if !compiles.isEmpty {
    let p = { (q: Double) in compiles[min(compiles.count - 1, Int(Double(compiles.count) * q))] }
    print(String(format: "of which compile + publish per batch (RecordStore.apply): p50 %.2f ms, p99 %.2f ms",
                 p(0.5), p(0.99)))
}
if !latencies.isEmpty {
    let p = { (q: Double) in latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
    print(String(format: "EndpointSlice change → DNS answer over %d changes: p50 %.2f ms, p99 %.2f ms, max %.2f ms",
                 latencies.count, p(0.5), p(0.99), latencies.last!))
}
let rssAfterChanges = rssBytes()
mallocTrim()
print(String(format: "RSS after changes: %.1f MiB (%.1f MiB after a malloc_trim)", Double(rssAfterChanges) / 1048576,
             Double(rssBytes()) / 1048576))
runner.cancel()

extension ArraySlice where Element == UInt8 {
    func windowsContains(_ needle: [UInt8]) -> Bool {
        guard count >= needle.count else { return false }
        var i = startIndex
        while i + needle.count <= endIndex {
            if self[i..<(i + needle.count)].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }
}
