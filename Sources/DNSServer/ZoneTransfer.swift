public import DNSWire
public import Logging
public import RecordStore
import DNSAnswer
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Serves zone transfers (AXFR, RFC 5936; IXFR, RFC 1995, answered in full) to allowed, TSIG-verified
/// secondaries, off the query path: the TCP handler hands each AXFR or IXFR request here and writes the messages
/// this returns. Secondaries get each zone's requester-independent (global) RRsets at one serial, the SOA first
/// and last. The configuration can be replaced while serving (SIGHUP); a request uses the one it started with.
public final class ZoneTransfer: Sendable {
    /// Why a transfer request was refused; counted in `/metrics` by these names.
    public enum Refusal: String, CaseIterable, Sendable {
        case addressNotAllowed = "address_not_allowed"
        case missingKey = "missing_key"
        case badKey = "bad_key"
        case badSignature = "bad_signature"
        case badTime = "bad_time"
        case zoneNotTransferred = "zone_not_transferred"
        case tooManyTransfers = "too_many_transfers"
        case malformed
    }

    private let state: Mutex<ZoneTransferConfiguration>
    private let store: RecordStore
    private let logger: Logger
    private let active = Atomic<Int>(0)
    private let refused = Mutex<[Refusal: Int]>([:])
    private let served = Atomic<Int>(0)
    private let abandoned = Atomic<Int>(0)
    private let built = MessageCounter()
    /// Unix seconds now (tests move it to check BADTIME).
    private let clock: @Sendable () -> UInt64

    public init(
        configuration: ZoneTransferConfiguration,
        store: RecordStore,
        logger: Logger,
        clock: (@Sendable () -> UInt64)? = nil
    ) {
        self.state = Mutex(configuration)
        self.store = store
        self.logger = logger
        self.clock = clock ?? { UInt64(time(nil)) }
    }

    public var configuration: ZoneTransferConfiguration { state.withLock { $0 } }

    /// Replaces the configuration (SIGHUP); transfers under way finish with the one they started with.
    public func update(_ configuration: ZoneTransferConfiguration) { state.withLock { $0 = configuration } }

    /// Refused requests so far, by reason.
    public var refusalCounts: [Refusal: Int] { refused.withLock { $0 } }
    /// Transfers answered with zone data (full or up to date) so far.
    public var transfersServed: Int { served.load(ordering: .relaxed) }
    /// Transfers stopped because their client went away before the last message.
    public var transfersAbandoned: Int { abandoned.load(ordering: .relaxed) }
    /// Messages of zone data made so far (refusals not counted): a transfer whose client left stops adding to it.
    public var transferMessagesBuilt: Int { built.value.load(ordering: .relaxed) }
    /// Transfers being answered now.
    public var transfersActive: Int { active.load(ordering: .relaxed) }

    /// The messages answering one AXFR or IXFR request from `source` (the client's address bytes: 4 or 16), in
    /// order: the zone, or a single refusal (REFUSED, NOTAUTH with the TSIG error RFC 8945 §5.2 names, FORMERR).
    public func respond(to request: [UInt8], from source: [UInt8]?, client: String = "?", udp: Bool = false)
        -> [[UInt8]]
    {
        var messages: [[UInt8]] = []
        respond(to: request, from: source, client: client, udp: udp) { message in
            messages.append(message)
            return true
        }
        return messages
    }

    /// Answers one AXFR or IXFR request as above, handing each message to `emit` as soon as it is made, so a
    /// transfer holds one message at a time, not the zone's. `emit` returns false when the client is gone: the
    /// transfer stops there (counted in `transfersAbandoned`). Returns how many messages `emit` took.
    @discardableResult
    public func respond(
        to request: [UInt8],
        from source: [UInt8]?,
        client: String = "?",
        udp: Bool = false,
        emit: @escaping ([UInt8]) -> Bool
    ) -> Int {
        let configuration = self.configuration
        func refuse(
            _ reason: Refusal,
            rcode: RCode,
            zone: String,
            _ message: @autoclosure () -> [UInt8]? = nil
        )
            -> Int
        {
            refused.withLock { $0[reason, default: 0] += 1 }
            logger.notice(
                "zone transfer refused",
                metadata: [
                    "dns.client": "\(client)", "dns.zone": "\(zone)", "reason": "\(reason.rawValue)",
                ]
            )
            var writer = TransferWriter(request: request, key: nil, requestMAC: nil)
            guard let reply = message() ?? (try? writer.bare(rcode: rcode)) else { return 0 }
            return emit(reply) ? 1 : 0
        }
        guard let query = try? TransferRequest(wire: request) else {
            return refuse(.malformed, rcode: .formErr, zone: "?")
        }
        let zoneText = query.zone.description
        let allowed =
            source.map { address in
                address.withUnsafeBytes { bytes in configuration.allow.contains { $0.contains(bytes) } }
            } ?? false
        guard allowed else { return refuse(.addressNotAllowed, rcode: .refused, zone: zoneText) }
        var key: TSIGKey? = nil
        var requestMAC: [UInt8]? = nil
        switch TSIG.verify(request, keys: configuration.keys, now: clock()) {
        case .malformed:
            return refuse(.malformed, rcode: .formErr, zone: zoneText)
        case .unsigned:
            if configuration.requireTSIG { return refuse(.missingKey, rcode: .notAuth, zone: zoneText) }
        case .badKey(let record):
            return refuse(
                .badKey,
                rcode: .notAuth,
                zone: zoneText,
                TSIG.errorResponse(to: request, record: record, error: .badKey)
            )
        case .badSignature(let record):
            return refuse(
                .badSignature,
                rcode: .notAuth,
                zone: zoneText,
                TSIG.errorResponse(to: request, record: record, error: .badSig)
            )
        case .badTime(let record, let key):
            // RFC 8945 §5.2.3: signed, with our time in Other Data, so the client can verify it and see the skew.
            return refuse(
                .badTime,
                rcode: .notAuth,
                zone: zoneText,
                TSIG.badTimeResponse(to: request, record: record, key: key, now: clock())
            )
        case .verified(let verifiedKey, let mac):
            key = verifiedKey
            requestMAC = mac
        }
        var writer = TransferWriter(request: request, key: key, requestMAC: requestMAC)
        let snapshot = store.transferSnapshot()
        guard query.qclass == .in, configuration.transfers(query.zone),
            let zone = snapshot.zones.first(where: { $0.origin == query.zone })
        else {
            refused.withLock { $0[.zoneNotTransferred, default: 0] += 1 }
            logger.notice(
                "zone transfer refused",
                metadata: [
                    "dns.client": "\(client)", "dns.zone": "\(zoneText)", "reason": "zone_not_transferred",
                ]
            )
            guard let reply = try? writer.bare(rcode: .notAuth) else { return 0 }
            return emit(reply) ? 1 : 0
        }
        guard active.add(1, ordering: .relaxed).newValue <= configuration.maxConcurrentTransfers else {
            active.subtract(1, ordering: .relaxed)
            refused.withLock { $0[.tooManyTransfers, default: 0] += 1 }
            logger.notice(
                "zone transfer refused",
                metadata: [
                    "dns.client": "\(client)", "dns.zone": "\(zoneText)", "reason": "too_many_transfers",
                ]
            )
            guard let reply = try? writer.bare(rcode: .refused) else { return 0 }
            return emit(reply) ? 1 : 0
        }
        defer { active.subtract(1, ordering: .relaxed) }
        let soa = zone.transferSOA(serial: snapshot.serial)
        let serial = Self.serial(of: soa)
        var batch = MessageBatch(writer: writer, emit: emit, built: built)
        var kind = "full"
        do throws(WireError) {
            if query.type == .ixfr, let have = query.clientSerial, Int32(bitPattern: serial &- have) <= 0 {
                // RFC 1995 §2: the client is current; the answer is our SOA alone.
                try batch.add(soa)
                kind = "current"
            } else if udp {
                // RFC 1995 §2: over UDP an answer that does not fit is our SOA alone, which tells the client to
                // ask again over TCP; mcdns answers every outdated IXFR over UDP so (one datagram, no reading of
                // steps).
                try batch.add(soa)
                kind = "udp"
            } else if query.type == .ixfr, let have = query.clientSerial,
                let steps = snapshot.journal.steps(of: zone.origin, from: have, to: serial)
            {
                // RFC 1995 §4: the new SOA, then per step the old SOA, what left, the next SOA, what came, and
                // the new SOA again.
                try batch.add(soa)
                for step in steps {
                    try batch.add(zone.transferSOA(serial: step.from))
                    for record in step.removed { try batch.add(record) }
                    try batch.add(zone.transferSOA(serial: step.to))
                    for record in step.added { try batch.add(record) }
                }
                try batch.add(soa)
                kind = "incremental"
            } else {
                // AXFR, or an IXFR this server answers in full (RFC 1995 §4: allowed whenever no increment is
                // kept). Name by name: the first message goes out before the rest of the zone is read.
                try batch.add(soa)
                for name in zone.transferNames() {
                    guard !batch.stopped else { break }
                    for record in zone.transferRecords(at: name) { try batch.add(record) }
                }
                try batch.add(soa)
            }
            try batch.finish()
        } catch {
            logger.error("zone transfer failed", metadata: ["dns.zone": "\(zoneText)", "error": "\(error)"])
            guard batch.messages == 0, !batch.stopped else { return batch.messages }
            var failure = TransferWriter(request: request, key: key, requestMAC: requestMAC)
            guard let reply = try? failure.bare(rcode: .servFail) else { return 0 }
            return emit(reply) ? 1 : 0
        }
        let metadata: Logger.Metadata = [
            "dns.client": "\(client)", "dns.zone": "\(zoneText)", "dns.serial": "\(serial)",
            "records": "\(batch.records)", "messages": "\(batch.messages)", "dns.transfer": "\(kind)",
            "dns.type": "\(query.type == .ixfr ? "IXFR" : "AXFR")",
            "tsig.key": "\(key?.name.description ?? "none")",
        ]
        if batch.stopped {
            abandoned.add(1, ordering: .relaxed)
            logger.notice("zone transfer abandoned: the client went away", metadata: metadata)
        } else {
            served.add(1, ordering: .relaxed)
            logger.info("zone transfer", metadata: metadata)
        }
        return batch.messages
    }

    /// IXFR over UDP (RFC 1995 §2), from the UDP loop: the same checks as over TCP, then our SOA alone, written
    /// into `output`; returns its length, or `length` (the table's REFUSED) when it does not fit.
    func respondUDP(to query: UnsafeRawBufferPointer, source: RequesterAddress,
                           output: UnsafeMutableRawBufferPointer, length: Int) -> Int {
        let address: [UInt8]?
        switch source {
        case .ipv4(let value): address = withUnsafeBytes(of: value.bigEndian) { Array($0) }
        case .ipv6(let high, let low): address = withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { Array($0) }
        case .unknown: address = nil
        }
        guard let message = respond(to: Array(query), from: address, client: address.map(Self.text) ?? "?",
                                    udp: true).first,
              message.count <= output.count
        else { return length }
        output.copyBytes(from: message)
        return message.count
    }

    private static func text(_ address: [UInt8]) -> String {
        address.count == 4
            ? address.map(String.init).joined(separator: ".")
            : stride(from: 0, to: address.count, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(separator: ":")
    }

    /// Signs the response to a TSIG-signed query in place (RFC 8945 §5.3), or replaces it with the NOTAUTH and
    /// TSIG error §5.2 names; returns the new length (the old one when the query's key is unknown to no one:
    /// without keys the response goes out as it was). Off the query path's common case: only signed queries.
    public func signResponse(
        to query: UnsafeRawBufferPointer,
        response: UnsafeMutableRawBufferPointer,
        length: Int
    ) -> Int {
        let keys = configuration.keys
        guard !keys.isEmpty else { return length }
        let request = Array(query)
        let unsigned = Array(response[0..<length])
        let signed: [UInt8]
        switch TSIG.verify(request, keys: keys, now: clock()) {
        case .unsigned, .malformed:
            return length
        case .verified(let key, let mac):
            guard let result = try? TSIG.sign(unsigned, key: key, priorMAC: mac) else { return length }
            signed = result.wire
        case .badKey(let record):
            signed = TSIG.errorResponse(to: request, record: record, error: .badKey)
        case .badSignature(let record):
            signed = TSIG.errorResponse(to: request, record: record, error: .badSig)
        case .badTime(let record, let key):
            signed = TSIG.badTimeResponse(to: request, record: record, key: key, now: clock())
        }
        guard signed.count <= response.count else { return length }
        response.copyBytes(from: signed)
        return signed.count
    }

    /// The SERIAL field of an SOA record.
    static func serial(of soa: ResourceRecord) -> UInt32 {
        let r = soa.rdata
        guard r.count >= 20 else { return 0 }
        return r[(r.count - 20)..<(r.count - 16)].reduce(0) { $0 << 8 | UInt32($1) }
    }
}

/// Counts the zone messages all transfers have made (shared by the batches, read by `transferMessagesBuilt`).
final class MessageCounter: Sendable {
    let value = Atomic<Int>(0)
}

/// Gathers a transfer's records into messages of `TransferWriter.messageBudget` uncompressed bytes (one record
/// at least), writes and hands each to `emit` as soon as it is full, and stops for good once `emit` says the
/// client is gone.
private struct MessageBatch {
    var writer: TransferWriter
    let emit: ([UInt8]) -> Bool
    let built: MessageCounter
    private var pending: [ResourceRecord] = []
    private var size = 0
    private(set) var messages = 0
    private(set) var records = 0
    private(set) var stopped = false

    init(writer: TransferWriter, emit: @escaping ([UInt8]) -> Bool, built: MessageCounter) {
        self.writer = writer
        self.emit = emit
        self.built = built
    }

    mutating func add(_ record: ResourceRecord) throws(WireError) {
        guard !stopped else { return }
        let length = record.owner.wire.count + 10 + record.rdata.count
        if !pending.isEmpty, size + length > TransferWriter.messageBudget { try flush() }
        pending.append(record)
        size += length
    }

    mutating func finish() throws(WireError) {
        if !pending.isEmpty, !stopped { try flush() }
    }

    private mutating func flush() throws(WireError) {
        let message = try writer.message(pending[...])
        built.value.add(1, ordering: .relaxed)
        records += pending.count
        pending.removeAll(keepingCapacity: true)
        size = 0
        if emit(message) { messages += 1 } else { stopped = true }
    }
}
