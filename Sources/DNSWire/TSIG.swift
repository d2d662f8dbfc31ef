internal import CLDNS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The TSIG algorithms mcdns signs and verifies with (RFC 8945 §6: HMAC-SHA256 is mandatory to implement;
/// HMAC-SHA512 is the other one secondaries commonly offer).
public enum TSIGAlgorithm: String, Sendable, CaseIterable {
    case hmacSHA256 = "hmac-sha256"
    case hmacSHA512 = "hmac-sha512"

    /// The algorithm's name as it appears in the TSIG RDATA.
    public var name: DomainName { (try? DomainName(rawValue)) ?? .root }
    /// ldns's spelling (a fully qualified name).
    var ldnsName: String { rawValue + "." }
}

/// A shared TSIG secret: the key's name, algorithm and secret bytes.
public struct TSIGKey: Sendable, Equatable {
    public var name: DomainName
    public var algorithm: TSIGAlgorithm
    public var secret: [UInt8]

    public init(name: DomainName, algorithm: TSIGAlgorithm, secret: [UInt8]) {
        self.name = name
        self.algorithm = algorithm
        self.secret = secret
    }

    /// Reads a secret in base64 (the form `tsig-keygen`, `keymgr -t` and Knot's and NSD's configs use); nil
    /// when the text is not base64 or is empty.
    public static func secret(base64 text: String) -> [UInt8]? {
        var values: [UInt8] = []
        var padding = 0
        for byte in text.utf8 where !(byte == 10 || byte == 13 || byte == 32 || byte == 9) {
            if byte == UInt8(ascii: "=") {
                padding += 1
                continue
            }
            guard padding == 0, let value = alphabet.firstIndex(of: byte) else { return nil }
            values.append(UInt8(value))
        }
        guard !values.isEmpty, (values.count + padding) % 4 == 0, padding <= 2 else { return nil }
        var output: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for value in values {
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(buffer >> UInt32(bits) & 0xFF))
            }
        }
        return output
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// The secret in base64, as ldns takes it.
    var base64: String {
        var out: [UInt8] = []
        var index = 0
        while index < secret.count {
            let chunk = secret[index..<min(index + 3, secret.count)]
            var value: UInt32 = 0
            for byte in chunk { value = value << 8 | UInt32(byte) }
            value <<= UInt32(8 * (3 - chunk.count))
            for position in 0..<4 {
                if position <= chunk.count {
                    out.append(Self.alphabet[Int(value >> UInt32(18 - 6 * position) & 0x3F)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The key name as ldns takes it (presentation form, fully qualified).
    var ldnsName: String { name.description.hasSuffix(".") ? name.description : name.description + "." }
}

/// The TSIG record of a message (RFC 8945 §4.2), read off its wire form.
public struct TSIGRecord: Sendable, Equatable {
    public var keyName: DomainName
    public var algorithm: DomainName
    /// Seconds since the epoch (48 bits).
    public var timeSigned: UInt64
    public var fudge: UInt16
    public var mac: [UInt8]
    public var originalID: UInt16
    /// `.noError`, or the TSIG error of a response: `.badSig`, `.badKey` or `.badTime` (RFC 8945 §5.2).
    public var error: RCode
    /// Other Data: the server's time (6 bytes) in a BADTIME response, else empty.
    public var otherData: [UInt8] = []
}

/// What a request's TSIG says (RFC 8945 §5.2): checked in the RFC's order, key first, then the MAC, then the time.
public enum TSIGVerdict: Sendable, Equatable {
    /// The request carries no TSIG.
    case unsigned
    /// Signed with `key` and the MAC verifies: `mac` is the request MAC the response's signature covers.
    case verified(key: TSIGKey, mac: [UInt8])
    /// The key name or algorithm is not one of ours (BADKEY).
    case badKey(TSIGRecord)
    /// The MAC does not verify (BADSIG).
    case badSignature(TSIGRecord)
    /// The MAC verifies but the time signed is outside the fudge (BADTIME).
    case badTime(TSIGRecord, key: TSIGKey)
    /// The message or its TSIG cannot be read (FORMERR).
    case malformed
}

/// TSIG (RFC 8945) through ldns: verifying requests and signing responses, one message or a chain of them.
public enum TSIG {
    /// The fudge mcdns signs with (RFC 8945 §10 recommends 300 seconds).
    public static let fudge: UInt16 = 300

    /// The TSIG record of `wire`, nil when it has none or cannot be read.
    public static func record(in wire: [UInt8]) -> TSIGRecord? {
        guard let packet = packet(wire) else { return nil }
        defer { ldns_pkt_free(packet) }
        return record(of: packet)
    }

    /// Checks a request's TSIG against `keys` at Unix time `now`.
    public static func verify(_ wire: [UInt8], keys: [TSIGKey], now: UInt64) -> TSIGVerdict {
        guard let packet = packet(wire) else { return .malformed }
        defer { ldns_pkt_free(packet) }
        guard ldns_pkt_tsig(packet) != nil else { return .unsigned }
        guard let record = record(of: packet) else { return .malformed }
        guard let key = keys.first(where: { $0.name == record.keyName && $0.algorithm.name == record.algorithm })
        else { return .badKey(record) }
        let valid = wire.withUnsafeBufferPointer {
            ldns_pkt_tsig_verify(packet, $0.baseAddress, $0.count, key.ldnsName, key.base64, nil)
        }
        guard valid != 0 else { return .badSignature(record) }
        let fudge = UInt64(record.fudge)
        guard record.timeSigned + fudge >= now, now + fudge >= record.timeSigned else {
            return .badTime(record, key: key)
        }
        return .verified(key: key, mac: record.mac)
    }

    /// Verifies a response (or the next message of a signed stream) against the MAC it follows: the request's
    /// for the first message, the previous message's for the next ones (RFC 8945 §5.3.1). Returns its MAC.
    public static func verifyResponse(_ wire: [UInt8], key: TSIGKey, priorMAC: [UInt8], first: Bool) -> [UInt8]? {
        guard let packet = packet(wire) else { return nil }
        defer { ldns_pkt_free(packet) }
        guard let record = record(of: packet) else { return nil }
        let prior = macRDF(priorMAC)
        defer { ldns_rdf_deep_free(prior) }
        let valid = wire.withUnsafeBufferPointer {
            ldns_pkt_tsig_verify_next(packet, $0.baseAddress, $0.count, key.ldnsName, key.base64, prior, first ? 0 : 1)
        }
        return valid != 0 ? record.mac : nil
    }

    /// Signs `wire` with `key` at the current time. `priorMAC` is the request's MAC (signing a response) or the
    /// previous message's (the next message of a stream, with `timersOnly`, RFC 8945 §5.3.1); nil signs a
    /// request. Returns the signed message and its MAC.
    public static func sign(
        _ wire: [UInt8],
        key: TSIGKey,
        priorMAC: [UInt8]?,
        timersOnly: Bool = false
    )
        throws(WireError) -> (wire: [UInt8], mac: [UInt8])
    {
        guard let packet = packet(wire) else { throw .ldns("cannot read the message to sign") }
        defer { ldns_pkt_free(packet) }
        let prior = priorMAC.flatMap(macRDF)
        defer { if let prior { ldns_rdf_deep_free(prior) } }
        let status = ldns_pkt_tsig_sign_next(
            packet,
            key.ldnsName,
            key.base64,
            fudge,
            key.algorithm.ldnsName,
            prior,
            timersOnly ? 1 : 0
        )
        guard status == LDNS_STATUS_OK else {
            throw .ldns("cannot sign: " + String(cString: ldns_get_errorstr_by_id(status)))
        }
        let signed = try render(packet)
        guard let record = record(of: packet) else { throw .ldns("signed message has no TSIG") }
        return (signed, record.mac)
    }

    /// The signed NOTAUTH response RFC 8945 §5.2.3 and §5.3.2 ask for a request whose MAC verified but whose time
    /// is outside its fudge: the request's header and question, and a TSIG record with error BADTIME, the
    /// request's Time Signed and Fudge, the server's time `now` in Other Data (so the client can see the skew),
    /// and a MAC by `key` over the request's MAC, this response and its TSIG variables (§4.3.3). ldns signs only
    /// with error 0 and no Other Data, so the MAC is computed here, with ldns's SHA-2.
    public static func badTimeResponse(to request: [UInt8], record: TSIGRecord, key: TSIGKey, now: UInt64)
        -> [UInt8]
    {
        let unsigned = header(of: request, rcode: .notAuth) + question(of: request)
        let time = bytes48(record.timeSigned)
        let fudge = [UInt8(record.fudge >> 8), UInt8(record.fudge & 0xFF)]
        let error = [UInt8(RCode.badTime.rawValue >> 8), UInt8(RCode.badTime.rawValue & 0xFF)]
        let other = bytes48(now)
        // §4.3.3: Request MAC (its size, then the MAC), the message as sent minus its TSIG, the TSIG variables
        // (key name and algorithm name in canonical form, class ANY, TTL 0, Time Signed, Fudge, Error, Other Len,
        // Other Data).
        var digest = [UInt8(record.mac.count >> 8), UInt8(record.mac.count & 0xFF)] + record.mac
        digest += unsigned
        digest += key.name.key + [0, 255, 0, 0, 0, 0]
        digest += key.algorithm.name.key + time + fudge + error + [0, 6] + other
        let mac = hmac(key.algorithm, secret: key.secret, message: digest)
        var out = unsigned
        out[11] = 1
        out += key.name.wire
        out += [0, 250, 0, 255, 0, 0, 0, 0]
        var rdata = key.algorithm.name.wire + time + fudge
        rdata += [UInt8(mac.count >> 8), UInt8(mac.count & 0xFF)] + mac
        rdata += [UInt8(record.originalID >> 8), UInt8(record.originalID & 0xFF)] + error + [0, 6] + other
        out += [UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        return out
    }

    /// HMAC (RFC 2104) of `message` with `secret`, over ldns's SHA-256 or SHA-512.
    public static func hmac(_ algorithm: TSIGAlgorithm, secret: [UInt8], message: [UInt8]) -> [UInt8] {
        let block = algorithm == .hmacSHA256 ? 64 : 128
        func hash(_ data: [UInt8]) -> [UInt8] {
            var digest = [UInt8](repeating: 0, count: algorithm == .hmacSHA256 ? 32 : 64)
            data.withUnsafeBufferPointer { input in
                digest.withUnsafeMutableBufferPointer { output in
                    if algorithm == .hmacSHA256 {
                        _ = ldns_sha256(input.baseAddress, UInt32(input.count), output.baseAddress)
                    } else {
                        _ = ldns_sha512(input.baseAddress, UInt32(input.count), output.baseAddress)
                    }
                }
            }
            return digest
        }
        var padded = secret.count > block ? hash(secret) : secret
        padded += [UInt8](repeating: 0, count: block - padded.count)
        let inner = hash(padded.map { $0 ^ 0x36 } + message)
        return hash(padded.map { $0 ^ 0x5C } + inner)
    }

    /// A 48-bit time as its 6 bytes, most significant first.
    private static func bytes48(_ value: UInt64) -> [UInt8] {
        (0..<6).map { UInt8(value >> UInt64(40 - 8 * $0) & 0xFF) }
    }

    /// The unsigned NOTAUTH response RFC 8945 §5.2 asks for a request with an unknown key or a bad MAC: the
    /// request's header and question, and a TSIG record with `error`, the request's time and an empty MAC.
    public static func errorResponse(to request: [UInt8], record: TSIGRecord, error: RCode) -> [UInt8] {
        var out = header(of: request, rcode: .notAuth, additional: 1)
        out += question(of: request)
        out += record.keyName.wire
        out += [0, 250, 0, 255, 0, 0, 0, 0]
        var rdata = record.algorithm.wire
        let time = record.timeSigned
        rdata += [
            UInt8(time >> 40 & 0xFF), UInt8(time >> 32 & 0xFF), UInt8(time >> 24 & 0xFF),
            UInt8(time >> 16 & 0xFF), UInt8(time >> 8 & 0xFF), UInt8(time & 0xFF),
        ]
        rdata += [UInt8(record.fudge >> 8), UInt8(record.fudge & 0xFF), 0, 0]
        rdata += [
            UInt8(record.originalID >> 8), UInt8(record.originalID & 0xFF), UInt8(error.rawValue >> 8),
            UInt8(error.rawValue & 0xFF), 0, 0,
        ]
        out += [UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        return out
    }

    /// A response header for `request` (its ID, opcode and RD; QR and AA set) with one question at most.
    static func header(of request: [UInt8], rcode: RCode, additional: UInt16 = 0) -> [UInt8] {
        guard request.count >= 12 else { return [] }
        let qd = question(of: request).isEmpty ? 0 : 1
        return [
            request[0], request[1], 0x84 | (request[2] & 0x79), rcode.header, 0, UInt8(qd), 0, 0, 0, 0,
            UInt8(additional >> 8), UInt8(additional & 0xFF),
        ]
    }

    /// The request's first question entry as it was sent (no compression allowed there), or nothing.
    static func question(of request: [UInt8]) -> [UInt8] {
        guard request.count > 12, request[4] == 0, request[5] >= 1 else { return [] }
        var at = 12
        while at < request.count {
            let length = Int(request[at])
            if length == 0 { break }
            guard length < 64 else { return [] }
            at += 1 + length
        }
        guard at + 5 <= request.count else { return [] }
        return Array(request[12..<(at + 5)])
    }

    // MARK: - ldns

    static func packet(_ wire: [UInt8]) -> UnsafeMutablePointer<ldns_pkt>? {
        var packet: UnsafeMutablePointer<ldns_pkt>? = nil
        let status = wire.withUnsafeBufferPointer { ldns_wire2pkt(&packet, $0.baseAddress, $0.count) }
        guard status == LDNS_STATUS_OK else {
            if let packet { ldns_pkt_free(packet) }
            return nil
        }
        return packet
    }

    static func render(_ packet: UnsafeMutablePointer<ldns_pkt>) throws(WireError) -> [UInt8] {
        var wire: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        let status = ldns_pkt2wire(&wire, packet, &size)
        guard status == LDNS_STATUS_OK, let wire else {
            throw .ldns("cannot render the message: " + String(cString: ldns_get_errorstr_by_id(status)))
        }
        defer { free(wire) }
        return Array(UnsafeBufferPointer(start: wire, count: size))
    }

    /// A MAC as ldns passes it between messages: RDATA of type INT16_DATA (a 2-byte length, then the bytes).
    private static func macRDF(_ mac: [UInt8]) -> UnsafeMutablePointer<ldns_rdf>? {
        let data = [UInt8(mac.count >> 8), UInt8(mac.count & 0xFF)] + mac
        return data.withUnsafeBufferPointer {
            ldns_rdf_new_frm_data(LDNS_RDF_TYPE_INT16_DATA, $0.count, $0.baseAddress)
        }
    }

    private static func record(of packet: UnsafeMutablePointer<ldns_pkt>) -> TSIGRecord? {
        guard let rr = ldns_pkt_tsig(packet), ldns_rr_rd_count(rr) >= 7,
            let owner = ldns_rr_owner(rr), let keyName = name(owner),
            let algorithmRDF = ldns_rr_rdf(rr, 0), let algorithm = name(algorithmRDF)
        else { return nil }
        func bytes(_ index: Int) -> [UInt8] {
            guard let rdf = ldns_rr_rdf(rr, index), let data = ldns_rdf_data(rdf) else { return [] }
            return Array(UnsafeBufferPointer(start: data, count: ldns_rdf_size(rdf)))
        }
        func int(_ bytes: [UInt8]) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
        let time = bytes(1)
        let fudge = bytes(2)
        let mac = bytes(3)
        let id = bytes(4)
        let error = bytes(5)
        let other = bytes(6)
        guard time.count == 6, fudge.count == 2, mac.count >= 2, id.count == 2, error.count == 2 else { return nil }
        return TSIGRecord(
            keyName: keyName,
            algorithm: algorithm,
            timeSigned: int(time),
            fudge: UInt16(int(fudge)),
            mac: Array(mac[2...]),
            originalID: UInt16(int(id)),
            error: RCode(UInt16(int(error))),
            otherData: other.count >= 2 ? Array(other[2...]) : []
        )
    }

    private static func name(_ rdf: UnsafePointer<ldns_rdf>) -> DomainName? {
        guard let data = ldns_rdf_data(rdf) else { return nil }
        return try? DomainName(wire: Array(UnsafeBufferPointer(start: data, count: ldns_rdf_size(rdf))))
    }
}
