import DNSReferenceModel
import DNSWire
import Foundation
import MCDNSModel
import Testing

/// The compiled answer table checked against the reference model (DESIGN §9, issue 21) over random sequences of
/// member events: services and slices added, changed and deleted, endpoints flipping ready, members going stale,
/// offline and back, members moving, coming and going, reloads with other naming and TTLs, warm starts from the
/// saved state and mass changes (thousands of services in one batch, also right after a warm start), over shapes
/// of 1 to 30 members and 1 to 5,000 services (`Shape`). After every step a sample of names is compared for every
/// requester variant; at the end of a sequence every name. How responses are compared: see `ModelRunner`.
///
/// Seeded and reproducible. The budget is `MCDNS_MODEL_SECONDS` (default 120: CI), the base seed
/// `MCDNS_MODEL_SEED` (default: today's date as yyyymmdd); both are printed. `MCDNS_MODEL_MAX_SERVICES` caps shapes. `MCDNS_MODEL_SEQUENCE=<seed>` runs
/// one sequence and prints every step as it goes (a crash then shows where), and `MCDNS_MODEL_STEPS=0,3,7` runs
/// only those steps of it. A failure is shrunk by dropping steps (for up to `MCDNS_MODEL_SHRINK_SECONDS`, 90 by
/// default) and printed with its seed and the steps that still fail. `make model-test SECONDS=3600` runs it long.
@Suite(.serialized) struct ModelBasedTests {
    static func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name] }
    /// `MCDNS_MODEL_MAX_SERVICES` caps a sequence's starting services (default 5,000, the generator's own
    /// bound): the sanitized run (`make test-asan`) keeps its shapes small enough for a few minutes.
    static let maxServices = Int(environment("MCDNS_MODEL_MAX_SERVICES") ?? "") ?? 5_000

    static func log(_ text: String) { FileHandle.standardError.write(Data("model-test: \(text)\n".utf8)) }

    static var today: UInt64 {
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: Date())
        return UInt64(parts.year! * 10_000 + parts.month! * 100 + parts.day!)
    }

    static func sequenceSeed(base: UInt64, index: Int) -> UInt64 {
        var mix = SplitMix64(state: base &+ UInt64(index) &* 0x9E37_79B9)
        return mix.next() >> 16
    }

    /// One sequence: its steps, run from a fresh store. Nil when table and model agree throughout.
    static func run(seed: UInt64, indices: [Int]? = nil, trace: Bool = false) async throws
        -> (failure: String?, steps: [Step], runner: ModelRunner)
    {
        var generator = SequenceGenerator(seed: seed)
        let steps = generator.steps()
        let runner = try ModelRunner(seed: seed, naming: NamingParams(subnets: generator.naming.subnets))
        let failure = await runner.run(steps, indices: indices ?? Array(steps.indices), trace: trace)
        return (failure, steps, runner)
    }

    /// Drops steps while the sequence still fails (any failure): chunks of half, then quarters, down to one.
    static func shrink(seed: UInt64, count: Int, until deadline: ContinuousClock.Instant) async throws -> [Int] {
        var keep = Array(0..<count)
        var chunk = max(1, keep.count / 2)
        while ContinuousClock.now < deadline {
            var removed = false
            var start = 0
            while start < keep.count && ContinuousClock.now < deadline {
                var candidate = keep
                candidate.removeSubrange(start..<min(keep.count, start + chunk))
                if !candidate.isEmpty, try await run(seed: seed, indices: candidate).failure != nil {
                    keep = candidate
                    removed = true
                } else {
                    start += chunk
                }
            }
            if !removed {
                if chunk == 1 { break }
                chunk = max(1, chunk / 2)
            }
        }
        return keep
    }

    /// DESIGN §4.2: ports are the union by (name, protocol, port). One port name and protocol on two numbers
    /// (members disagree) gives one SRV RRset with both; the table served only the last and the model only the
    /// first. A plain and a headless service, compared on every name; then the members come to agree.
    @Test func srvOfOnePortNameOnTwoNumbersIsTheUnion() async throws {
        let members = [ClusterInfo(id: "c0", locality: Locality(region: "r0", zone: "r0-z0"), link: .synced),
                       ClusterInfo(id: "c1", locality: Locality(region: "r1", zone: "r1-z0"), link: .synced)]
        func record(_ name: String, headless: Bool, ports: [Int]) -> ServiceDNSRecord {
            var record = ServiceDNSRecord(key: ServiceKey(namespace: "ns0", name: name))
            record.status.headless = headless
            record.status.ports = ports.map { ServicePort(name: "http", protocol: "TCP", port: $0) }.sorted()
            for (c, member) in members.enumerated() {
                var dns = ClusterDNS(cluster: member.id, region: member.locality.region, zones: [member.locality.zone])
                if !headless { dns.clusterIPs = [IPAddress("10.96.\(c).1")!] }
                dns.endpoints = [Endpoint(address: IPAddress("10.\(c).0.1")!, hostname: headless ? "pod0" : nil)]
                dns.readyEndpoints = 1
                record.status.dns.append(dns)
            }
            return record
        }
        let steps: [Step] = [
            .apply(RecordChanges(upserted: [record("s0", headless: false, ports: [80, 8080]),
                                            record("s1", headless: true, ports: [80, 81, 8080])],
                                 clusters: members), "ports differ across members"),
            .apply(RecordChanges(upserted: [record("s0", headless: false, ports: [8080]),
                                            record("s1", headless: true, ports: [81])]), "members agree"),
        ]
        let runner = try ModelRunner(seed: 1, naming: NamingParams())
        let failure = await runner.run(steps, indices: Array(steps.indices))
        #expect(failure == nil, "\(failure ?? "")")
        #expect(runner.queries > 0)
        let srv = ReferenceQuery(name: try DomainName("_http._tcp.s1.ns0.svc.clusterset.local"), type: .srv)
        #expect(try Message(wire: runner.model.respond(to: srv)).answer.count == 2)
    }

    @Test func tableAnswersAsTheReferenceModel() async throws {
        let seconds = Double(Self.environment("MCDNS_MODEL_SECONDS") ?? "") ?? 120
        let base = UInt64(Self.environment("MCDNS_MODEL_SEED") ?? "") ?? Self.today
        let shrinkSeconds = Double(Self.environment("MCDNS_MODEL_SHRINK_SECONDS") ?? "") ?? 90

        if let one = Self.environment("MCDNS_MODEL_SEQUENCE").flatMap(UInt64.init) {
            let indices = Self.environment("MCDNS_MODEL_STEPS").map { $0.split(separator: ",").compactMap { Int($0) } }
            Self.log("replaying sequence seed \(one)\(indices.map { " steps \($0)" } ?? "")")
            let (failure, steps, runner) = try await Self.run(seed: one, indices: indices, trace: true)
            Self.log("\(runner.steps) steps of \(steps.count), \(runner.queries) queries compared")
            #expect(failure == nil, "sequence seed \(one): \(failure ?? "")")
            return
        }

        Self.log("base seed \(base) (MCDNS_MODEL_SEED), budget \(Int(seconds)) s (MCDNS_MODEL_SECONDS)")
        let start = ContinuousClock.now
        let deadline = start + .milliseconds(Int(seconds * 1000))
        var sequences = 0, steps = 0, queries = 0
        var index = 0
        while ContinuousClock.now < deadline {
            let seed = Self.sequenceSeed(base: base, index: index)
            index += 1
            Self.log("sequence \(index) seed \(seed): \(SequenceGenerator(seed: seed).shape)")
            let began = ContinuousClock.now
            let (failure, all, runner) = try await Self.run(seed: seed)
            Self.log("  \(runner.steps) steps, \(runner.queries) queries (\(runner.parsed) parsed) in "
                + "\((ContinuousClock.now - began).formatted(.units(allowed: [.seconds], fractionalPart: .show(length: 1))))")
            sequences += 1
            steps += runner.steps
            queries += runner.queries
            guard let failure else { continue }
            Self.log("FAILED: sequence seed \(seed) (base \(base)): \(failure)")
            Self.log("shrinking for up to \(Int(shrinkSeconds)) s …")
            let kept = try await Self.shrink(seed: seed, count: all.count,
                                             until: .now + .milliseconds(Int(shrinkSeconds * 1000)))
            let (shrunk, _, _) = try await Self.run(seed: seed, indices: kept)
            var report = "sequence seed \(seed) fails with \(kept.count) of \(all.count) steps; replay with "
                + "MCDNS_MODEL_SEQUENCE=\(seed) MCDNS_MODEL_STEPS=\(kept.map(String.init).joined(separator: ","))\n"
            for i in kept { report += "  step \(i): \(all[i])\n" }
            report += "failure: \(shrunk ?? failure)"
            Self.log(report)
            Issue.record(Comment(rawValue: report))
            break
        }
        let took = ContinuousClock.now - start
        Self.log("\(sequences) sequences, \(steps) steps, \(queries) queries compared in \(took)")
        #expect(sequences >= 1 && steps >= 1 && queries > 0)
    }
}
