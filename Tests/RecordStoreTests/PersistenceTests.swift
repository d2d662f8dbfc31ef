import DNSAnswer
import DNSWire
import Foundation
import MCDNSModel
import RecordStore
import Testing

/// The state file (format, atomic writes, rejection of damaged files) and the warm start it feeds.
@Suite struct PersistenceTests {
    static let zone = """
        $ORIGIN example.com.
        @ 300 IN SOA ns1 hostmaster 1 7200 3600 1209600 60
        @ 300 IN NS ns1
        ns1 300 IN A 192.0.2.1

        """

    static func liveTable() throws -> LiveTable {
        let (zone, errors) = ZoneFile.parse(zone, origin: try DomainName("example.com"))
        #expect(errors.isEmpty)
        let naming = NamingConfiguration(
            federationName: "acme",
            federationDomain: try DomainName("example.com"),
            recordTTL: 30,
            degradedTTL: 5
        )
        return try LiveTable(zones: [try #require(zone)], naming: naming)
    }

    static func record(_ name: String, address: IPAddress, cluster: ClusterID = "east-1") -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: name))
        record.status.dns = [
            ClusterDNS(
                cluster: cluster,
                region: "r",
                zones: ["z"],
                clusterIPs: [address],
                readyEndpoints: 1
            )
        ]
        return record
    }

    static let synced = [ClusterInfo(id: "east-1", locality: Locality(region: "r", zone: "z"), link: .synced)]
    static let offline = [ClusterInfo(id: "east-1", locality: Locality(region: "r", zone: "z"), link: .offline)]

    /// The A records (address, TTL) the table gives for `<name>.shop.acme.svc.example.com`.
    static func answer(_ table: AnswerTable, _ name: String) throws -> [String] {
        let query = try Message.query(name: try DomainName("\(name).shop.acme.svc.example.com"), type: .a)
        var output = [UInt8](repeating: 0, count: 65535)
        let length = query.withUnsafeBytes { q in
            output.withUnsafeMutableBytes { table.respond(to: q, transport: .tcp, into: $0) }
        }
        return try Message(wire: Array(output[..<length])).answer.map {
            let fields = $0.split(whereSeparator: { $0 == "\t" || $0 == " " })
            return "\(fields[4]) ttl \(fields[1])"
        }
    }

    func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "mcdns-state-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test func roundTripsThroughTheFile() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StateFile(directory: directory)
        let state = PersistedState(
            serial: 42,
            serialReserved: 1042,
            savedAt: 1_700_000_000,
            records: [Self.record("web", address: "10.0.0.1")],
            clusters: Self.synced
        )
        try file.save(state)
        #expect(try file.load() == state)
        // Atomic: no temporary file is left behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == [StateFile.fileName])
    }

    /// `StateFile.encode` writes the document a record at a time; the payload must be, byte for byte, what
    /// JSONEncoder writes for the whole state: with strings that need escaping, optionals left out, doubles of
    /// every size, no records, and many.
    @Test func thePayloadIsJSONEncodersDocumentForTheWholeState() throws {
        var odd = Self.record("we\"b/\\ü\u{7}", address: "2001:db8::1", cluster: "west-\u{1F600}")
        odd.status.dns[0].lastObserved = 1_765_000_000.123_456_7
        odd.status.dns[0].endpoints = [Endpoint(address: "10.0.0.2", hostname: "h/1", zone: nil, ready: true)]
        odd.status.conditions = [Condition(type: "Ready", status: .unknown, reason: "R", message: "line\nbreak\t<>&")]
        let many = try (0..<300).map {
            Self.record("svc-\($0)", address: try #require(IPAddress("10.1.\($0 / 256).\($0 % 256)")))
        }
        let states = [
            PersistedState(serial: 0, serialReserved: 0, savedAt: 0, records: [], clusters: []),
            PersistedState(serial: .max, serialReserved: .max, savedAt: 1e-7, records: [odd], clusters: Self.synced),
            PersistedState(serial: 9, serialReserved: 1009, savedAt: 1_765_000_000.25, records: many,
                           clusters: Self.synced + Self.offline),
            PersistedState(serial: 1, serialReserved: 2, savedAt: 1e300, records: [odd] + many, clusters: Self.offline),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for state in states {
            let bytes = try StateFile.encode(state)
            let whole = [UInt8](try encoder.encode(state))
            #expect(Array(bytes.dropFirst(StateFile.magic.count + 16)) == whole, "\(state.records.count) records")
            #expect(try StateFile.decode(bytes, path: "f") == state)
        }
    }

    @Test func damagedFilesAreReportedNotTrusted() throws {
        let state = PersistedState(
            serial: 7,
            serialReserved: 1007,
            savedAt: 0,
            records: [Self.record("web", address: "10.0.0.1")],
            clusters: Self.synced
        )
        let bytes = try StateFile.encode(state)
        #expect(try StateFile.decode(bytes, path: "f") == state)
        // Truncated anywhere: in the header or in the payload.
        for cut in [3, 10, 23, bytes.count / 2, bytes.count - 1] {
            #expect(throws: StateFileError.self) { try StateFile.decode(Array(bytes.prefix(cut)), path: "f") }
            do {
                _ = try StateFile.decode(Array(bytes.prefix(cut)), path: "f")
            } catch {
                guard case .truncated = error else {
                    Issue.record("cut at \(cut): \(error)")
                    continue
                }
            }
        }
        // One flipped payload byte: the checksum catches it.
        var flipped = bytes
        flipped[bytes.count - 5] ^= 0x01
        #expect(throws: StateFileError.checksumMismatch("f")) { try StateFile.decode(flipped, path: "f") }
        // Another program's file.
        #expect(throws: StateFileError.foreign("f")) { try StateFile.decode(Array("{\"serial\": 1}".utf8), path: "f") }
        // A future format version.
        var future = bytes
        future[11] = 9
        #expect(throws: StateFileError.unsupportedVersion("f", version: 9)) { try StateFile.decode(future, path: "f") }
        #expect(throws: StateFileError.self) { try StateFile.decode([], path: "f") }
    }

    /// The peak resident set of this process, in bytes (it only grows).
    static func peakRSS() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    /// A sparse file of `size` bytes whose first bytes are `head`: no disk, but reading it costs `size` of memory.
    static func sparseFile(_ path: String, size: Int, head: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        #expect(fd >= 0)
        defer { close(fd) }
        #expect(head.withUnsafeBytes { write(fd, $0.baseAddress!, head.count) } == head.count)
        #expect(ftruncate(fd, off_t(size)) == 0)
    }

    /// Issue 22, finding 6: a 2 GB sparse state file was read whole (4 GB peak RSS, 10 s before serving) only to
    /// be rejected for its first 8 bytes. The header and the size now decide before the payload is read.
    @Test func aHugeStateFileIsRefusedWithoutReadingIt() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StateFile(directory: directory)
        let before = Self.peakRSS()
        // Wrong magic, 2 GiB: foreign from its first bytes.
        try Self.sparseFile(file.path, size: 2 << 30, head: Array("not a state file".utf8))
        #expect(throws: StateFileError.foreign(file.path)) { try file.load() }
        // Our header, but a file beyond the limit: refused from its size.
        var header = StateFile.magic
        header += [0, 0, 0, 1]  // version
        header += [0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF]  // payload length
        header += [0, 0, 0, 0]  // checksum
        try Self.sparseFile(file.path, size: (2 << 30) + 1, head: header)
        #expect(throws: StateFileError.tooLarge(file.path, size: (2 << 30) + 1, limit: StateFile.defaultMaximumSize)) {
            try file.load()
        }
        // Under the limit, but not the length its header promises: refused without reading the payload.
        try Self.sparseFile(file.path, size: 900 << 20, head: header)
        #expect(throws: StateFileError.truncated(file.path, size: 900 << 20, expected: 24 + 0x7FFF_FFFF)) {
            try file.load()
        }
        let grown = Self.peakRSS() - before
        #expect(grown < 64 << 20, "peak RSS grew by \(grown >> 20) MiB")
        // The limit is the file's: a good file over a small limit is refused too, and says what to do.
        try file.save(PersistedState(serial: 1, serialReserved: 2, savedAt: 0, records: [], clusters: []))
        let small = StateFile(directory: directory, maximumSize: 16)
        #expect {
            try small.load()
        } throws: { error in
            guard let error = error as? StateFileError, case .tooLarge = error else { return false }
            return error.description.contains("starting cold")
        }
        #expect(try file.load().serial == 1)
    }

    @Test func aMissingFileIsNotAnError() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(throws: StateFileError.missing(StateFile(directory: directory).path)) {
            try StateFile(directory: directory).load()
        }
    }

    @Test func theReservationRunsLowAtHalfWayAndAWriteRenewsIt() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = try RecordStore(
            live: try Self.liveTable(),
            firstSerial: 5000,
            stateFile: StateFile(directory: directory),
            serialReservation: 40
        )
        // Nothing on disk reserves serials yet: the persister is asked to write at once.
        #expect(store.reservationRunningLow)
        await store.apply(RecordChanges(upserted: [Self.record("web", address: "10.0.0.1")], clusters: Self.synced))
        #expect(store.persistIfChanged())
        #expect(!store.reservationRunningLow)
        let reserved = try StateFile(directory: directory).load().serialReserved
        #expect(reserved >= store.current().serial + 40)
        // Publishes up to half of the reservation leave it alone; the next ones ask for a write.
        var served = store.current().serial
        var published = 0
        while !store.reservationRunningLow {
            await store.apply(RecordChanges(upserted: [Self.record("web", address: IPAddress("10.0.\(published % 200).1")!)]))
            #expect(store.current().serial > served)
            served = store.current().serial
            published += 1
            if published > 40 { break }
        }
        #expect(store.reservationRunningLow)
        #expect(reserved - served < 20 + 2)
        #expect(reserved - served >= 20 - 2)
        // No publish wrote the state itself (that would have renewed the reservation on the compile path).
        #expect(try StateFile(directory: directory).load().serialReserved == reserved)
    }

    @Test func aRestartServesTheSavedRecordsAsStaleAndTheSerialNeverGoesBack() async throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StateFile(directory: directory)
        let first = try RecordStore(live: try Self.liveTable(), firstSerial: 5000, stateFile: file)
        await first.apply(RecordChanges(upserted: [Self.record("web", address: "10.0.0.1")], clusters: Self.synced))
        await first.apply(RecordChanges(upserted: [Self.record("api", address: "10.0.0.2")]))
        #expect(try Self.answer(first.current(), "web") == ["10.0.0.1 ttl 30"])
        let servedSerial = first.current().serial
        #expect(first.persistIfChanged())
        #expect(!first.persistIfChanged(), "nothing changed since the last write")

        // The clock went backwards (firstSerial lower than anything served): the saved reservation still wins.
        let saved = try file.load()
        #expect(saved.records.map(\.key.name) == ["api", "web"])
        let second = try RecordStore(live: try Self.liveTable(), firstSerial: 10, stateFile: file, restoring: saved)
        #expect(second.current().serial > servedSerial)
        #expect(second.current().serial > saved.serialReserved)
        #expect(second.isReady, "a loaded state makes the daemon ready at once")
        // Stale until the member resyncs: the degraded TTL.
        #expect(try Self.answer(second.current(), "web") == ["10.0.0.1 ttl 5"])
        #expect(second.liveState()?.warmStart == true)

        // The controller's first report says "offline, never synced": the restored data keeps serving.
        await second.apply(RecordChanges(clusters: Self.offline))
        #expect(try Self.answer(second.current(), "web") == ["10.0.0.1 ttl 5"])

        // The member syncs and republishes only web (api is gone from it): api leaves, web is fresh again.
        await second.apply(RecordChanges(upserted: [Self.record("web", address: "10.0.0.9")], clusters: Self.synced))
        #expect(try Self.answer(second.current(), "web") == ["10.0.0.9 ttl 30"])
        #expect(try Self.answer(second.current(), "api") == [])
        #expect(second.liveState()?.warmStart == false)
        #expect(second.liveState()?.records.keys.map(\.name) == ["web"])
    }

    /// A service served by two members before the restart: the member that syncs first republishes it with its own
    /// targets only, and the other member's restored targets stay (stale) until that member has synced too.
    @Test func aMemberThatSyncsFirstDoesNotDropTheOthersRestoredTargets() async throws {
        var web = Self.record("web", address: "10.0.0.1")
        web.status.dns += Self.record("web", address: "10.0.0.2", cluster: "west-1").status.dns
        var api = Self.record("api", address: "10.0.1.2", cluster: "west-1")
        api.status.dns[0].region = "r"
        let bothSynced =
            Self.synced + [ClusterInfo(id: "west-1", locality: Locality(region: "r", zone: "z"), link: .synced)]
        let saved = PersistedState(
            serial: 100,
            serialReserved: 1100,
            savedAt: 0,
            records: [web, api],
            clusters: bothSynced
        )
        let store = try RecordStore(live: try Self.liveTable(), firstSerial: 1, restoring: saved)
        #expect(try Set(Self.answer(store.current(), "web")) == ["10.0.0.1 ttl 5", "10.0.0.2 ttl 5"])

        // east-1 syncs: web comes back with east-1's (new) address only, and api is not in east-1 (removed).
        let eastOnly = [
            bothSynced[0], ClusterInfo(id: "west-1", locality: Locality(region: "r", zone: "z"), link: .offline),
        ]
        await store.apply(
            RecordChanges(
                upserted: [Self.record("web", address: "10.0.0.9")],
                removed: [api.key],
                clusters: eastOnly
            )
        )
        #expect(
            try Set(Self.answer(store.current(), "web")) == ["10.0.0.9 ttl 5", "10.0.0.2 ttl 5"],
            "west-1's restored target stays, stale, beside east-1's fresh one"
        )
        #expect(try Self.answer(store.current(), "api") == ["10.0.1.2 ttl 5"], "api is west-1's: kept until it syncs")
        #expect(store.liveState()?.warmStart == true)

        // west-1 syncs without web's second address and without api: now both go.
        await store.apply(
            RecordChanges(
                upserted: [Self.record("web", address: "10.0.0.9")],
                removed: [api.key],
                clusters: bothSynced
            )
        )
        #expect(try Self.answer(store.current(), "web") == ["10.0.0.9 ttl 30"])
        #expect(try Self.answer(store.current(), "api") == [])
        #expect(store.liveState()?.warmStart == false)
    }

    @Test func aWarmStartThatNeverCompletesEndsAfterTheGrace() async throws {
        let saved = PersistedState(
            serial: 100,
            serialReserved: 1100,
            savedAt: 0,
            records: [Self.record("web", address: "10.0.0.1")],
            clusters: Self.synced
        )
        let before = ContinuousClock.now
        let store = try RecordStore(live: try Self.liveTable(), firstSerial: 1, restoring: saved,
                                    warmStartGrace: .seconds(120))
        let after = ContinuousClock.now
        await store.apply(RecordChanges(clusters: Self.offline))
        #expect(try Self.answer(store.current(), "web") == ["10.0.0.1 ttl 5"])
        #expect(!store.endWarmStart(ifOverdueAt: before + .seconds(119)), "the grace is not over")
        #expect(try Self.answer(store.current(), "web") == ["10.0.0.1 ttl 5"])
        #expect(store.endWarmStart(ifOverdueAt: after + .seconds(120)))
        #expect(try Self.answer(store.current(), "web") == [])
        #expect(store.liveState()?.warmStart == false)
        #expect(!store.endWarmStart())
    }

    /// A reload replaces the controller: what is served stays, as after a restore, until each member has synced
    /// again, and no longer than the grace when one never does (its targets would otherwise serve, stale, forever).
    @Test func aResyncAfterAReloadEndsAfterTheGraceToo() async throws {
        let store = try RecordStore(live: try Self.liveTable(), firstSerial: 1)
        await store.apply(RecordChanges(upserted: [Self.record("web", address: "10.0.0.1")], clusters: Self.synced))
        #expect(try Self.answer(store.current(), "web") == ["10.0.0.1 ttl 30"])
        let reload = ContinuousClock.now + .seconds(600)
        store.expectResync(within: .seconds(30), at: reload)
        #expect(store.liveState()?.warmStart == true)
        // The new controller's first report: east-1 has not synced yet.
        await store.apply(RecordChanges(clusters: Self.offline))
        #expect(try Self.answer(store.current(), "web") == ["10.0.0.1 ttl 5"])
        #expect(!store.endWarmStart(ifOverdueAt: reload + .seconds(29)))
        #expect(store.endWarmStart(ifOverdueAt: reload + .seconds(30)))
        #expect(try Self.answer(store.current(), "web") == [])
        #expect(store.liveState()?.records.isEmpty == true)
    }

    @Test func aCorruptStateFileIsIgnoredAtStart() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let file = StateFile(directory: directory)
        try file.save(PersistedState(serial: 1, serialReserved: 2, savedAt: 0, records: [], clusters: []))
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file.path))
        try bytes.prefix(bytes.count - 3).write(to: URL(fileURLWithPath: file.path))
        #expect {
            try file.load()
        } throws: { error in
            guard let error = error as? StateFileError, case .truncated = error else { return false }
            return error.description.contains("truncated")
        }
    }
}
