import DNSWire
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// TSIG through ldns (RFC 8945): requests verified in the RFC's order, responses and streams signed so that the
/// other side's verification (ldns's here; Knot's and NSD's in the integration tests) accepts them.
@Suite struct TSIGTests {
    static let secret = TSIGKey.secret(base64: "qBvKXUpo4zNzOThnIV28KTuR5Ms5Pw7XWCnu0K4dNtY=")!
    static let key = TSIGKey(name: try! DomainName("xfr-key"), algorithm: .hmacSHA256, secret: secret)
    static var now: UInt64 { UInt64(time(nil)) }

    @Test func base64SecretsAreReadAndRefused() {
        #expect(Self.secret.count == 32)
        #expect(TSIGKey.secret(base64: "AAEC") == [0, 1, 2])
        #expect(TSIGKey.secret(base64: "AAE=") == [0, 1])
        #expect(TSIGKey.secret(base64: "AA==") == [0])
        #expect(TSIGKey.secret(base64: "not base64!") == nil)
        #expect(TSIGKey.secret(base64: "") == nil)
        #expect(TSIGKey.secret(base64: "AAE") == nil)
    }

    @Test func aSignedRequestVerifiesOnlyWithItsKeyAndInTime() throws {
        let query = try Message.query(name: try DomainName("example.com"), type: .axfr)
        #expect(TSIG.verify(query, keys: [Self.key], now: Self.now) == .unsigned)
        let signed = try TSIG.sign(query, key: Self.key, priorMAC: nil)
        guard case .verified(let key, let mac) = TSIG.verify(signed.wire, keys: [Self.key], now: Self.now) else {
            Issue.record("not verified: \(TSIG.verify(signed.wire, keys: [Self.key], now: Self.now))")
            return
        }
        #expect(key == Self.key && mac == signed.mac && mac.count == 32)

        var wrong = Self.key
        wrong.secret[0] ^= 1
        guard case .badSignature = TSIG.verify(signed.wire, keys: [wrong], now: Self.now) else {
            Issue.record("a wrong secret verified")
            return
        }
        var other = Self.key
        other.name = try DomainName("other-key")
        guard case .badKey(let record) = TSIG.verify(signed.wire, keys: [other], now: Self.now) else {
            Issue.record("an unknown key was not BADKEY")
            return
        }
        #expect(record.keyName == Self.key.name && record.fudge == TSIG.fudge)
        var sha512 = Self.key
        sha512.algorithm = .hmacSHA512
        guard case .badKey = TSIG.verify(signed.wire, keys: [sha512], now: Self.now) else {
            Issue.record("a key of another algorithm was not BADKEY")
            return
        }
        guard case .badTime = TSIG.verify(signed.wire, keys: [Self.key], now: Self.now + 301) else {
            Issue.record("a request signed 301 s ago was not BADTIME")
            return
        }
        // One flipped bit in the signed part.
        var tampered = signed.wire
        tampered[3] ^= 0x10
        guard case .badSignature = TSIG.verify(tampered, keys: [Self.key], now: Self.now) else {
            Issue.record("a tampered request verified")
            return
        }
    }

    @Test func theErrorResponseCarriesTheTSIGErrorUnsigned() throws {
        let query = try TSIG.sign(
            try Message.query(name: try DomainName("example.com"), type: .axfr),
            key: Self.key,
            priorMAC: nil
        ).wire
        let record = try #require(TSIG.record(in: query))
        let response = TSIG.errorResponse(to: query, record: record, error: TSIG.badSig)
        let message = try Message(wire: response)
        #expect(message.qr && message.rcode == TSIG.notAuth && message.id == 0x1234)
        let tsig = try #require(TSIG.record(in: response))
        #expect(tsig.error == TSIG.badSig && tsig.mac.isEmpty && tsig.timeSigned == record.timeSigned)
    }

    @Test func aTransferStreamIsSignedMessageByMessage() throws {
        let query = try TSIG.sign(
            try Message.query(name: try DomainName("example.com"), type: .axfr),
            key: Self.key,
            priorMAC: nil
        )
        let zone = try DomainName("example.com")
        let soa = ResourceRecord(
            owner: zone,
            type: .soa,
            ttl: 300,
            rdata: try DomainName("ns1.example.com").wire + (try DomainName("h.example.com")).wire
                + [0, 0, 0, 7, 0, 0, 0x1C, 0x20, 0, 0, 3, 0x84, 0, 0x12, 0x75, 0, 0, 0, 0, 5],
            compressibleNames: [0, 17]
        )
        var records = [soa]
        for index in 0..<2000 {
            records.append(
                .a(
                    try DomainName("host\(index).example.com"),
                    ttl: 30,
                    [10, 0, UInt8(index >> 8), UInt8(index & 0xFF)]
                )
            )
        }
        records.append(soa)
        let runs = TransferWriter.runs(records)
        #expect(runs.count > 2 && runs.first?.lowerBound == 0 && runs.last?.upperBound == records.count)
        var writer = TransferWriter(request: query.wire, key: Self.key, requestMAC: query.mac)
        var prior = query.mac
        var total = 0
        for (index, run) in runs.enumerated() {
            let message = try writer.message(records[run])
            #expect(message.count < 16_384 + 200)
            let parsed = try Message(wire: message)
            #expect(parsed.qr && parsed.aa && parsed.rcode == 0 && parsed.question.count == (index == 0 ? 1 : 0))
            total += parsed.answer.count
            let mac = TSIG.verifyResponse(message, key: Self.key, priorMAC: prior, first: index == 0)
            #expect(mac != nil, "message \(index) does not verify")
            prior = mac ?? []
        }
        #expect(total == records.count)
    }
}
