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
    /// Transfers being answered now.
    public var transfersActive: Int { active.load(ordering: .relaxed) }

    /// The messages answering one AXFR or IXFR request from `source` (the client's address bytes: 4 or 16), in
    /// order: the zone, or a single refusal (REFUSED, NOTAUTH with the TSIG error RFC 8945 §5.2 names, FORMERR).
    public func respond(to request: [UInt8], from source: [UInt8]?, client: String = "?", udp: Bool = false)
        -> [[UInt8]]
    {
        let configuration = self.configuration
        func refuse(
            _ reason: Refusal,
            rcode: Int,
            zone: String,
            _ message: @autoclosure () -> [UInt8]? = nil
        )
            -> [[UInt8]]
        {
            refused.withLock { $0[reason, default: 0] += 1 }
            logger.notice(
                "zone transfer refused",
                metadata: [
                    "dns.client": "\(client)", "dns.zone": "\(zone)", "reason": "\(reason.rawValue)",
                ]
            )
            if let message = message() { return [message] }
            var writer = TransferWriter(request: request, key: nil, requestMAC: nil)
            return (try? writer.bare(rcode: rcode)).map { [$0] } ?? []
        }
        guard let query = try? TransferRequest(wire: request) else {
            return refuse(.malformed, rcode: 1, zone: "?")
        }
        let zoneText = query.zone.description
        let allowed =
            source.map { address in
                address.withUnsafeBytes { bytes in configuration.allow.contains { $0.contains(bytes) } }
            } ?? false
        guard allowed else { return refuse(.addressNotAllowed, rcode: 5, zone: zoneText) }
        var key: TSIGKey? = nil
        var requestMAC: [UInt8]? = nil
        switch TSIG.verify(request, keys: configuration.keys, now: clock()) {
        case .malformed:
            return refuse(.malformed, rcode: 1, zone: zoneText)
        case .unsigned:
            if configuration.requireTSIG { return refuse(.missingKey, rcode: TSIG.notAuth, zone: zoneText) }
        case .badKey(let record):
            return refuse(
                .badKey,
                rcode: TSIG.notAuth,
                zone: zoneText,
                TSIG.errorResponse(to: request, record: record, error: TSIG.badKey)
            )
        case .badSignature(let record):
            return refuse(
                .badSignature,
                rcode: TSIG.notAuth,
                zone: zoneText,
                TSIG.errorResponse(to: request, record: record, error: TSIG.badSig)
            )
        case .badTime(let record, _):
            return refuse(
                .badTime,
                rcode: TSIG.notAuth,
                zone: zoneText,
                TSIG.errorResponse(to: request, record: record, error: TSIG.badTime)
            )
        case .verified(let verifiedKey, let mac):
            key = verifiedKey
            requestMAC = mac
        }
        var writer = TransferWriter(request: request, key: key, requestMAC: requestMAC)
        let snapshot = store.transferSnapshot()
        guard query.qclass == 1, configuration.transfers(query.zone),
            let zone = snapshot.zones.first(where: { $0.origin == query.zone })
        else {
            refused.withLock { $0[.zoneNotTransferred, default: 0] += 1 }
            logger.notice(
                "zone transfer refused",
                metadata: [
                    "dns.client": "\(client)", "dns.zone": "\(zoneText)", "reason": "zone_not_transferred",
                ]
            )
            return (try? writer.bare(rcode: TSIG.notAuth)).map { [$0] } ?? []
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
            return (try? writer.bare(rcode: 5)).map { [$0] } ?? []
        }
        defer { active.subtract(1, ordering: .relaxed) }
        let soa = zone.transferSOA(serial: snapshot.serial)
        let serial = Self.serial(of: soa)
        var records: [ResourceRecord]
        var kind = "full"
        if query.type == .ixfr, let have = query.clientSerial, Int32(bitPattern: serial &- have) <= 0 {
            // RFC 1995 §2: the client is current; the answer is our SOA alone.
            records = [soa]
            kind = "current"
        } else if udp {
            // RFC 1995 §2: over UDP an answer that does not fit is our SOA alone, which tells the client to ask
            // again over TCP; mcdns answers every outdated IXFR over UDP so (one datagram, no reading of steps).
            records = [soa]
            kind = "udp"
        } else if query.type == .ixfr, let have = query.clientSerial,
            let steps = snapshot.journal.steps(of: zone.origin, from: have, to: serial)
        {
            // RFC 1995 §4: the new SOA, then per step the old SOA, what left, the next SOA, what came, and the
            // new SOA again.
            records = [soa]
            for step in steps {
                records.append(zone.transferSOA(serial: step.from))
                records += step.removed
                records.append(zone.transferSOA(serial: step.to))
                records += step.added
            }
            records.append(soa)
            kind = "incremental"
        } else {
            // AXFR, or an IXFR this server answers in full (RFC 1995 §4: allowed whenever no increment is kept).
            records = [soa]
            records += zone.transferRecords()
            records.append(soa)
        }
        var messages: [[UInt8]] = []
        do {
            for run in TransferWriter.runs(records) { messages.append(try writer.message(records[run])) }
        } catch {
            logger.error("zone transfer failed", metadata: ["dns.zone": "\(zoneText)", "error": "\(error)"])
            var failure = TransferWriter(request: request, key: key, requestMAC: requestMAC)
            return (try? failure.bare(rcode: 2)).map { [$0] } ?? []
        }
        served.add(1, ordering: .relaxed)
        logger.info(
            "zone transfer",
            metadata: [
                "dns.client": "\(client)", "dns.zone": "\(zoneText)", "dns.serial": "\(serial)",
                "records": "\(records.count)", "messages": "\(messages.count)", "dns.transfer": "\(kind)",
                "dns.type": "\(query.type == .ixfr ? "IXFR" : "AXFR")",
                "tsig.key": "\(key?.name.description ?? "none")",
            ]
        )
        return messages
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
            signed = TSIG.errorResponse(to: request, record: record, error: TSIG.badKey)
        case .badSignature(let record):
            signed = TSIG.errorResponse(to: request, record: record, error: TSIG.badSig)
        case .badTime(let record, _):
            signed = TSIG.errorResponse(to: request, record: record, error: TSIG.badTime)
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
