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
        let response = TSIG.errorResponse(to: query, record: record, error: RCode.badSig)
        let message = try Message(wire: response)
        #expect(message.qr && message.rcode == RCode.notAuth && message.id == 0x1234)
        let tsig = try #require(TSIG.record(in: response))
        #expect(tsig.error == RCode.badSig && tsig.mac.isEmpty && tsig.timeSigned == record.timeSigned)
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
            #expect(parsed.qr && parsed.aa && parsed.rcode == .noError && parsed.question.count == (index == 0 ? 1 : 0))
            total += parsed.answer.count
            let mac = TSIG.verifyResponse(message, key: Self.key, priorMAC: prior, first: index == 0)
            #expect(mac != nil, "message \(index) does not verify")
            prior = mac ?? []
        }
        #expect(total == records.count)
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0xF)]])
    }

    @Test func theHMACIsRFC4231s() {
        // RFC 4231 §4.3, test case 2.
        let message = Array("what do ya want for nothing?".utf8)
        let sha256 = TSIG.hmac(.hmacSHA256, secret: Array("Jefe".utf8), message: message)
        #expect(sha256.map(Self.hex).joined()
            == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        let sha512 = TSIG.hmac(.hmacSHA512, secret: Array("Jefe".utf8), message: message)
        #expect(sha512.map(Self.hex).joined()
            == "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
            + "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737")
        // RFC 4231 §4.7, test case 6: a key longer than the block is hashed first.
        let long = TSIG.hmac(.hmacSHA256, secret: [UInt8](repeating: 0xAA, count: 131),
                             message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))
        #expect(long.map(Self.hex).joined()
            == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    @Test(arguments: TSIGAlgorithm.allCases)
    func theBADTIMEResponseIsSignedWithTheServersTime(algorithm: TSIGAlgorithm) throws {
        var key = Self.key
        key.algorithm = algorithm
        let request = try TSIG.sign(
            try Message.query(name: try DomainName("example.com"), type: .axfr),
            key: key,
            priorMAC: nil
        )
        let record = try #require(TSIG.record(in: request.wire))
        let now = record.timeSigned + 3600
        guard case .badTime(_, let found) = TSIG.verify(request.wire, keys: [key], now: now) else {
            Issue.record("a request signed an hour ago was not BADTIME")
            return
        }
        let response = TSIG.badTimeResponse(to: request.wire, record: record, key: found, now: now)
        let message = try Message(wire: response)
        #expect(message.qr && message.rcode == RCode.notAuth && message.id == 0x1234 && message.question.count == 1)
        let tsig = try #require(TSIG.record(in: response))
        #expect(tsig.error == RCode.badTime && tsig.timeSigned == record.timeSigned && tsig.fudge == record.fudge)
        #expect(tsig.otherData == (0..<6).map { UInt8(now >> UInt64(40 - 8 * $0) & 0xFF) })
        #expect(tsig.mac.count == (algorithm == .hmacSHA256 ? 32 : 64))
        // ldns checks the MAC over the request's MAC, the response and its TSIG variables (error and Other Data
        // included); another secret does not verify.
        #expect(TSIG.verifyResponse(response, key: key, priorMAC: request.mac, first: true) == tsig.mac)
        var wrong = key
        wrong.secret[0] ^= 1
        #expect(TSIG.verifyResponse(response, key: wrong, priorMAC: request.mac, first: true) == nil)
    }
}
