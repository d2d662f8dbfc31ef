import DNSAnswer
import DNSReferenceModel
import DNSWire
import Foundation
import Logging
import MCDNSModel
import RecordStore

/// Runs one sequence of steps through the real path (a `RecordStore` over a `LiveTable`, fed `RecordChanges` as
/// the controller feeds it, reconfigured on reload, restarted from its state file) and through the reference
/// model, and compares their responses.
///
/// Comparison: as parsed messages where the bytes differ. The table compresses names (and picks its pointers by
/// its own rules); the model writes every name in full but the owners equal to the question's name (`C0 0C`, as
/// every server does), so most positive answers are equal byte for byte and the rest differ in compression
/// alone when right. Both responses are read through ldns (`DNSWire.Message`) and
/// compared field by field: the header flags and RCODE, the question, the answer section as an ordered list
/// (order is what locality means: nearest first), authority and additional as multisets (their order carries
/// no meaning), and the OPT record (size, version, DO, options). The ECS scope must be the subnet's prefix when
/// the answer was picked by it; when the requester's answer is everyone's, scope 0 and the prefix are both right.
/// Rotation (README, "Traffic policies") does not blur the ordered comparison: the table is asked through the
/// `respond` that carries no turn counter, which answers every query at turn 0, in the compiled (nearest-first)
/// order the model computes; `RotationTests` check the turns themselves.
final class ModelRunner {
    let seed: UInt64
    let zones = ModelZones.zones
    let stateDirectory: String
    var naming = NamingParams()
    var store: RecordStore
    var model: ReferenceModel
    var rng: SplitMix64
    /// The controller's view (what was published), checked against the store until the first warm start: after
    /// one, the store keeps restored data of members that have not resynced, by design (RecordStore README).
    var world: [ServiceKey: ServiceDNSRecord] = [:]
    var worldMembers: [ClusterInfo]? = nil
    var trackWorld = true
    var steps = 0
    var queries = 0
    var parsed = 0
    /// Response pairs found equal in this step (most requester variants give the same bytes).
    private var agreed = Set<[UInt8]>()

    static let logger: Logger = {
        var logger = Logger(label: "mcdns.model-test")
        logger.logLevel = .critical
        return logger
    }()

    init(seed: UInt64, naming: NamingParams) throws {
        self.seed = seed
        self.naming = naming
        rng = SplitMix64(state: seed ^ 0x5EED)
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("mcdns-model-XXXXXX").path
        var bytes = Array(template.utf8CString)
        guard let made = mkdtemp(&bytes) else { throw RunnerError.setup("mkdtemp failed") }
        stateDirectory = String(cString: made)
        store = try RecordStore(live: LiveTable(zones: zones, naming: naming.table), firstSerial: 1_000,
                                stateFile: StateFile(directory: stateDirectory), logger: Self.logger)
        model = try ReferenceModel(zones: zones, naming: naming.model)
    }

    deinit { try? FileManager.default.removeItem(atPath: stateDirectory) }

    enum RunnerError: Error { case setup(String) }

    // MARK: - Steps

    /// Runs `steps` (by index into `all`), checking after each one; returns the first failure.
    func run(_ all: [Step], indices: [Int], trace: Bool = false) async -> String? {
        if let failure = syncModel() { return "at the start: \(failure)" }
        for index in indices {
            let step = all[index]
            if trace { FileHandle.standardError.write(Data("model-test:   step \(index): \(step)\n".utf8)) }
            if let failure = await perform(step) { return "step \(index) (\(step)): \(failure)" }
            steps += 1
            if let failure = checkInvariants() { return "after step \(index) (\(step)): \(failure)" }
            if let failure = syncModel() { return "after step \(index) (\(step)): \(failure)" }
            if let failure = await compareSample(focus: focus(of: step)) {
                return "after step \(index) (\(step)): \(failure)"
            }
        }
        if let failure = await compareEverything() { return "at the end: \(failure)" }
        return nil
    }

    func perform(_ step: Step) async -> String? {
        switch step {
        case .apply(let changes, _):
            await store.apply(changes)
            for key in changes.removed { world[key] = nil }
            for record in changes.upserted { world[record.key] = record }
            if let clusters = changes.clusters { worldMembers = clusters }
        case .reload(let params):
            naming = params
            if let error = store.reconfigure({ () throws(CompileError) -> LiveTable in
                try LiveTable(zones: zones, naming: params.table)
            }) {
                return "reload failed: \(error)"
            }
            do { model = try ReferenceModel(zones: zones, naming: params.model) } catch { return "\(error)" }
        case .warmStart:
            store.persistIfChanged()
            let before = store.liveState()?.records.dictionary ?? [:]
            do {
                let file = StateFile(directory: stateDirectory)
                let saved = try file.load()
                // StateFile.encode writes the document a record at a time; the payload (after the 24-byte header)
                // must be what JSONEncoder writes for the whole state at once.
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                let whole = try encoder.encode(saved)
                let payload = try Data(contentsOf: URL(fileURLWithPath: file.path)).dropFirst(StateFile.magic.count + 16)
                if !payload.elementsEqual(whole) {
                    return "the state file's JSON (\(payload.count) bytes) is not JSONEncoder's (\(whole.count) bytes)"
                }
                store = try RecordStore(live: LiveTable(zones: zones, naming: naming.table), firstSerial: 1_000,
                                        stateFile: StateFile(directory: stateDirectory), restoring: saved,
                                        logger: Self.logger)
            } catch {
                return "warm start failed: \(error)"
            }
            trackWorld = false
            let after = store.liveState()?.records.dictionary ?? [:]
            if after != before {
                return "the warm start restored \(after.count) records, \(before.count) were saved "
                    + "(differing: \(Set(after.keys).symmetricDifference(before.keys).prefix(5)))"
            }
        case .endWarmStart:
            store.endWarmStart()
        }
        return nil
    }

    /// The services a step touched: compared first.
    func focus(of step: Step) -> [ServiceKey] {
        guard case .apply(let changes, _) = step else { return [] }
        return Array((changes.upserted.map(\.key) + changes.removed).prefix(12))
    }

    /// Every compact structure's own invariants after every step: the live table's (name stores, zones, service
    /// numbering) and the served table's (shards, templates, variants); the first violation fails the sequence.
    func checkInvariants() -> String? {
        let live = store.withLiveTable { table, _ in table.validate() } ?? []
        let problems = live + store.current().validate()
        return problems.isEmpty ? nil : "invariants broken: " + problems.prefix(5).joined(separator: "; ")
    }

    /// Brings the model to the records and members the store compiled (the controller's batches after the
    /// store's warm-start bookkeeping), and checks the store against the controller's view while that holds.
    func syncModel() -> String? {
        guard let state = store.liveState() else { return "the store has no live state" }
        let records = state.records
        let members = state.clusters.values.sorted { $0.id < $1.id }
        if members != model.members.values.sorted(by: { $0.id < $1.id }) {
            model.reset(records: records.values, members: members)
        } else {
            var upserted: [ServiceDNSRecord] = []
            for record in records.values where model.records[record.key] != record { upserted.append(record) }
            let removed = model.records.keys.filter { records[$0] == nil }
            if !upserted.isEmpty || !removed.isEmpty { model.apply(upserted: upserted, removed: removed) }
        }
        model.serial = store.current().serial
        if !model.collisions.isEmpty { return "the generator made colliding names: \(model.collisions.prefix(3))" }
        if trackWorld {
            if records.count != world.count || world.contains(where: { records[$0.key] != $0.value }) {
                let differing = world.keys.filter { records[$0] != world[$0] } + records.keys.filter { world[$0] == nil }
                return "the store holds \(records.count) records, the controller published \(world.count) "
                    + "(differing: \(differing.prefix(5).map { "\($0)" }))"
            }
            if let worldMembers,
               Dictionary(worldMembers.map { ($0.id, $0) }, uniquingKeysWith: { _, b in b }) != state.clusters {
                return "the store's members \(members) differ from the published \(worldMembers)"
            }
        }
        return nil
    }

    // MARK: - Comparing

    static let staticNames: [DomainName] = [
        "example.com", "www.example.com", "alias.example.com", "to-live.example.com", "to-region.example.com",
        "many.example.com", "_sip._udp.example.com", "ns1.example.com", "nothing.example.com", "svc.example.com",
        "clusterset.local", "dns-version.clusterset.local", "svc.clusterset.local", "static.test", "host.static.test",
        "example.org", "local", "nx.clusterset.local",
    ].map { try! DomainName($0) }

    static let allTypes: [RRType] = [.a, .aaaa, .any, .cname, .srv, .txt, .mx, .ns, .soa, RRType(13), .ptr]

    /// The requester variants of a question: nobody in particular, every member by the EDNS option (a sample
    /// of them when there are many), an unknown cluster, and per configured subnet ECS inside it, ECS less
    /// specific than it, and the source address; plus a query without EDNS.
    func variants(_ name: DomainName, _ type: RRType, all: Bool) -> [ReferenceQuery] {
        var plain = ReferenceQuery(name: name, type: type)
        var result = [plain]
        plain.ednsSize = nil
        result.append(plain)
        var members = model.members.keys.sorted()
        if !all && members.count > 6 { members = Array(members.shuffled(using: &rng).prefix(6)) }
        for member in members + ["unknown-cluster"] {
            var query = ReferenceQuery(name: name, type: type)
            let value = Int.random(in: 0..<4, using: &rng) == 0 ? member.rawValue.uppercased() : member.rawValue
            query.localOption = (65518, value)
            result.append(query)
        }
        for (second, _) in naming.subnets {
            var ecs = ReferenceQuery(name: name, type: type)
            ecs.clientSubnet = .init(address: [10, second, 7, 0], sourcePrefix: 24)
            result.append(ecs)
            var wide = ReferenceQuery(name: name, type: type)
            wide.clientSubnet = .init(address: [10, 0, 0, 0], sourcePrefix: 8)
            result.append(wide)
            var source = ReferenceQuery(name: name, type: type)
            source.source = [10, second, 3, 4]
            result.append(source)
        }
        var stranger = ReferenceQuery(name: name, type: type)
        stranger.source = [192, 0, 2, 200]
        result.append(stranger)
        return result
    }

    /// A sample: the names of the services the step touched and of a few others, the names above them, static
    /// names and names that do not exist; every requester variant for the address types and ANY.
    func compareSample(focus: [ServiceKey]) async -> String? {
        agreed.removeAll(keepingCapacity: true)
        let table = store.current()
        var keys = focus
        let known = model.records.keys.sorted()
        for _ in 0..<min(8, known.count) { keys.append(known.randomElement(using: &rng)!) }
        var names = Set(Self.staticNames)
        for key in keys {
            for name in model.names(of: key) {
                names.insert(name)
                if let parent = name.parent { names.insert(parent) }
                if let below = try? name.prepending("below") { names.insert(below) }
            }
            // A removed service's names must be gone: ask its global and clusterset names.
            if let global = try? DomainName("\(key.name).\(key.namespace).\(naming.federationName).svc.example.com") {
                names.insert(global)
            }
            if let clusterset = try? DomainName("\(key.name).\(key.namespace).svc.clusterset.local") {
                names.insert(clusterset)
            }
        }
        for name in names.sorted() {
            await Task.yield()
            var types: [RRType] = [.a, .aaaa, .any] + model.types(at: name)
            types.append(Self.allTypes.randomElement(using: &rng)!)
            for type in Set(types).sorted() {
                let all = [.a, .aaaa, .any].contains(type)
                for query in all ? variants(name, type, all: false) : [ReferenceQuery(name: name, type: type)] {
                    if let failure = compare(table, query) { return failure }
                }
            }
        }
        return nil
    }

    /// Every name the model knows, and every name the table made for a service it holds: A and ANY for anyone,
    /// each name's own types, and every member's variant where the model has one.
    func compareEverything() async -> String? {
        agreed.removeAll(keepingCapacity: true)
        let table = store.current()
        var names = Set(model.allNames)
        // Names the table holds that the model does not (a leftover would show here).
        if let live = store.liveState(namesOf: { _ in true }) {
            for list in live.names.values { names.formUnion(list) }
        }
        var count = 0
        for name in names.sorted() {
            count += 1
            if count % 64 == 0 { await Task.yield() }
            for type in Set([.a, .any] + model.types(at: name)).sorted() {
                if let failure = compare(table, ReferenceQuery(name: name, type: type)) { return failure }
            }
            let own = model.members.keys.contains { model.hasOwnAnswer(name, requester: $0) }
            if own || Int.random(in: 0..<50, using: &rng) == 0 {
                for type in [RRType.a, .aaaa] {
                    for query in variants(name, type, all: true) {
                        if let failure = compare(table, query) { return failure }
                    }
                }
            }
        }
        return nil
    }

    func compare(_ table: AnswerTable, _ query: ReferenceQuery) -> String? {
        queries += 1
        let wire = query.wire
        var output = [UInt8](repeating: 0, count: 65_535)
        let source: RequesterAddress
        if let address = query.source, address.count == 4 {
            source = .ipv4(address.reduce(0) { $0 << 8 | UInt32($1) })
        } else {
            source = .unknown
        }
        let length = wire.withUnsafeBytes { q in
            output.withUnsafeMutableBytes { table.respond(to: q, transport: .tcp, source: source, into: $0) }
        }
        let got = Array(output[..<length])
        let want = model.respond(to: query)
        if got == want { return nil }
        let pair = got + [0xFF, 0xFE, 0xFD] + want
        if agreed.contains(pair) { return nil }
        parsed += 1
        let gotMessage: Message, wantMessage: Message
        do {
            gotMessage = try Message(wire: got)
        } catch {
            return "\(query): the table's response does not parse (\(error)): \(got)"
        }
        do {
            wantMessage = try Message(wire: want)
        } catch {
            return "\(query): the model's response does not parse (\(error)): \(want)"
        }
        if let difference = difference(gotMessage, wantMessage, query) {
            return "\(query): \(difference)\n  table: \(Self.show(gotMessage))\n  model: \(Self.show(wantMessage))"
                + diagnose(gotMessage, wantMessage, query)
        }
        agreed.insert(pair)
        return nil
    }

    /// Who holds the names of a differing answer, in the table and in the model, and their records.
    func diagnose(_ got: Message, _ want: Message, _ query: ReferenceQuery) -> String {
        var names: Set<DomainName> = [query.name]
        for line in got.answer + want.answer {
            let fields = line.split(separator: "\t")
            if let owner = fields.first, let name = try? DomainName(String(owner)) { names.insert(name) }
            if fields.count >= 5, fields[3] == "CNAME", let name = try? DomainName(String(fields[4])) { names.insert(name) }
        }
        var text = ""
        for name in names.sorted() {
            let tableOwner = store.withLiveTable { live, _ in live.owner(of: name) } ?? nil
            let modelOwner = model.service(holding: name)
            text += "\n  \(name): table's service \(tableOwner.map { "\($0)" } ?? "none"), model's "
                + "\(modelOwner.map { "\($0)" } ?? "none")"
            for key in Set([tableOwner, modelOwner].compactMap { $0 }) {
                let record = store.liveState()?.records[key]
                text += "\n    \(key): in the store: \(record.map { "\($0.spec) \($0.status)" } ?? "no record")"
                text += "\n    names in the table: \(store.withLiveTable { live, _ in live.names(of: key) } ?? [])"
                text += "\n    names in the model: \(model.names(of: key))"
            }
        }
        return text
    }

    func difference(_ got: Message, _ want: Message, _ query: ReferenceQuery) -> String? {
        if (got.id, got.rcode, got.opcode) != (want.id, want.rcode, want.opcode) { return "rcode or id differ" }
        if (got.qr, got.aa, got.tc, got.rd, got.ra, got.cd) != (want.qr, want.aa, want.tc, want.rd, want.ra, want.cd) {
            return "header flags differ"
        }
        if got.question != want.question { return "question differs" }
        if got.answer != want.answer { return "answer section differs" }
        if got.authority.sorted() != want.authority.sorted() { return "authority section differs" }
        if got.additional.sorted() != want.additional.sorted() { return "additional section differs" }
        guard var gotEDNS = got.edns, let wantEDNS = want.edns else {
            return got.edns == nil && want.edns == nil ? nil : "OPT present in one response only"
        }
        // Scope 0 where the requester's answer is everyone's: the subnet's prefix is right too (RFC 7871 §7.2.1).
        if gotEDNS.optionsData.count == wantEDNS.optionsData.count, gotEDNS.optionsData.count >= 8,
           wantEDNS.optionsData[7] == 0, let who = model.requester(of: query), let scope = who.ecsScope,
           gotEDNS.optionsData[7] == scope,
           model.answer(query.name, query.type, requester: who.cluster)
               == model.answer(query.name, query.type, requester: nil) {
            gotEDNS.optionsData[7] = 0
        }
        if gotEDNS != wantEDNS { return "OPT differs: \(gotEDNS) vs \(wantEDNS)" }
        return nil
    }

    static func show(_ message: Message) -> String {
        "rcode \(message.rcode) aa \(message.aa) answer \(message.answer) authority \(message.authority) "
            + "additional \(message.additional) opt \(message.edns.map { "\($0.optionsData)" } ?? "none")"
    }
}
