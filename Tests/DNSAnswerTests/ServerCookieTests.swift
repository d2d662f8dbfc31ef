import DNSAnswer
import DNSTestSupport
import DNSWire
import Testing

/// SipHash-2-4 against its reference vectors, and DNS cookies (RFC 7873) with RFC 9018 server cookies answered
/// through the real query path, checked against RFC 9018 Appendix A byte for byte.
@Suite struct ServerCookieTests {
    static let rfcSecret = CookieSecret(hex: "e5e973e5a6b2a43f48e7dc849e37bfcf")!
    static let v4Client: RequesterAddress = .ipv4(0xC633_6464)  // 198.51.100.100

    static func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<($0 + 2)], as: UTF8.self), radix: 16)! }
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }

    /// The reference implementation's vectors: key 00 01 … 0f, message 00 01 … of each length.
    @Test(arguments: [
        (0, UInt64(0x726f_db47_dd0e_0e31)),
        (1, UInt64(0x74f8_39c5_93dc_67fd)),
        (15, UInt64(0xa129_ca61_49be_45e5)),
        (63, UInt64(0x958a_324c_eb06_4572)),
    ])
    func sipHashReferenceVectors(length: Int, expected: UInt64) {
        let (k0, k1) = SipHash24.key(Array(0..<16) as [UInt8])
        let message = (0..<length).map { UInt8($0) }
        #expect(message.withUnsafeBytes { SipHash24.hash(key0: k0, key1: k1, $0) } == expected)
    }

    /// A query with a COOKIE option (`cookie` bytes) in its OPT record.
    static func query(_ name: String = "www.example.com", type: RRType = .a, cookie: [UInt8]) throws -> [UInt8] {
        var packet = try WireQuery.make(id: 0x1234, name: name, type: type)
        packet.removeLast(2)
        WireQuery.append16(UInt16(4 + cookie.count), to: &packet)
        WireQuery.append16(10, to: &packet)
        WireQuery.append16(UInt16(cookie.count), to: &packet)
        return packet + cookie
    }

    /// Answers `query` and returns the response, its outcome and the COOKIE option it carries (nil if none: ours
    /// is always the OPT record's last option).
    static func answer(_ table: AnswerTable, _ query: [UInt8], cookies: ServerCookies,
                       source: RequesterAddress = v4Client) -> (response: [UInt8], outcome: ResponseOutcome, cookie: [UInt8]?) {
        var output = [UInt8](repeating: 0, count: 65535)
        var qtype = RRType.reserved
        var outcome = ResponseOutcome()
        let length = query.withUnsafeBytes { input in
            output.withUnsafeMutableBytes {
                table.respond(to: input, transport: .udp, source: source, into: $0, qtype: &qtype, outcome: &outcome,
                              cookies: cookies)
            }
        }
        let response = Array(output[..<length])
        var cookie: [UInt8]? = nil
        if response.count >= 28, Array(response[(response.count - 28)..<(response.count - 24)]) == [0, 10, 0, 24] {
            cookie = Array(response[(response.count - 24)...])
        }
        return (response, outcome, cookie)
    }

    @Test func rfc9018A1ALearnsANewServerCookie() throws {
        let table = try Fixture.table()
        let cookies = ServerCookies(now: 1_559_731_985, current: Self.rfcSecret)
        let result = Self.answer(table, try Self.query(cookie: Self.bytes("2464c4abcf10c957")), cookies: cookies)
        #expect(Self.hex(result.cookie ?? []) == "2464c4abcf10c957010000005cf79f111f8130c3eee29480")
        #expect(result.outcome.cookie == .clientOnly)
        #expect(result.outcome.responseClass == .answer)
        // The answer itself is untouched: NOERROR with the A record.
        let message = try Message(wire: result.response)
        #expect(message.answer == ["www.example.com.\t300\tIN\tA\t192.0.2.80"])
    }

    @Test func rfc9018A2RenewsAValidCookieOlderThanHalfAnHour() throws {
        let table = try Fixture.table()
        let cookies = ServerCookies(now: 1_559_734_385, current: Self.rfcSecret)
        let sent = Self.bytes("2464c4abcf10c957010000005cf79f111f8130c3eee29480")
        let result = Self.answer(table, try Self.query(cookie: sent), cookies: cookies)
        #expect(result.outcome.cookie == .valid)
        #expect(Self.hex(result.cookie ?? []) == "2464c4abcf10c957010000005cf7a871d4a564a1442aca77")
    }

    @Test func aValidCookieYoungerThanHalfAnHourIsEchoed() throws {
        let table = try Fixture.table()
        let sent = Self.bytes("2464c4abcf10c957010000005cf79f111f8130c3eee29480")
        let result = Self.answer(table, try Self.query(cookie: sent),
                                 cookies: ServerCookies(now: 1_559_731_985 + 600, current: Self.rfcSecret))
        #expect(result.outcome.cookie == .valid)
        #expect(result.cookie == sent)
    }

    @Test func rfc9018A3HashesTheReservedBytesAsSentAndRefusesAnExpiredCookie() throws {
        let table = try Fixture.table()
        let sent = Self.bytes("fc93fc62807ddb8601abcdef5cf78f71a314227b6679ebf5")
        let source: RequesterAddress = .ipv4(0xCB00_71CB)  // 203.0.113.203
        // Made at 1559727985: valid a minute later, with its reserved bytes as the client sent them.
        let fresh = Self.answer(table, try Self.query(cookie: sent),
                                cookies: ServerCookies(now: 1_559_728_045, current: Self.rfcSecret), source: source)
        #expect(fresh.outcome.cookie == .valid)
        // From another address it is not ours.
        let moved = Self.answer(table, try Self.query(cookie: sent),
                                cookies: ServerCookies(now: 1_559_728_045, current: Self.rfcSecret),
                                source: .ipv4(0xCB00_71CC))
        #expect(moved.outcome.cookie == .clientOnly)
        // At 1559734700 it is over an hour old: treated as a client cookie alone, and a fresh one is returned.
        let expired = Self.answer(table, try Self.query(cookie: sent),
                                  cookies: ServerCookies(now: 1_559_734_700, current: Self.rfcSecret), source: source)
        #expect(expired.outcome.cookie == .clientOnly)
        #expect(Self.hex(expired.cookie ?? []) == "fc93fc62807ddb86010000005cf7a9acf73a7810aca2381e")
    }

    @Test func rfc9018A4AcceptsTheRetiringSecretOverIPv6AndRenewsWithTheNewOne() throws {
        let table = try Fixture.table()
        let old = CookieSecret(hex: "dd3bdf9344b678b185a6f5cb60fca715")!
        let new = CookieSecret(hex: "445536bcd2513298075a5d379663c962")!
        let source: RequesterAddress = .ipv6(0x2001_0db8_0220_0001, 0x59de_d0f4_8769_82b8)
        let sent = Self.bytes("22681ab97d52c298010000005cf7c57926556bd0934c72f8")
        let now: UInt32 = 0x5cf7_c579 + 60
        let withOld = Self.answer(table, try Self.query(cookie: sent),
                                  cookies: ServerCookies(now: now, current: old), source: source)
        #expect(withOld.outcome.cookie == .valid)
        // Rolled over: still valid through `previous`, and the reply carries a cookie made with the new secret.
        let rolled = ServerCookies(now: now, current: new, previous: old)
        let result = Self.answer(table, try Self.query(cookie: sent), cookies: rolled, source: source)
        #expect(result.outcome.cookie == .valid)
        let renewed = try #require(result.cookie)
        #expect(renewed != sent)
        #expect(Self.answer(table, try Self.query(cookie: renewed), cookies: ServerCookies(now: now, current: new),
                            source: source).outcome.cookie == .valid)
        // Without the old secret the cookie is not valid.
        #expect(Self.answer(table, try Self.query(cookie: sent), cookies: ServerCookies(now: now, current: new),
                            source: source).outcome.cookie == .clientOnly)
    }

    @Test func aCookieFromTheFutureBeyondFiveMinutesIsNotValid() throws {
        let table = try Fixture.table()
        let sent = Self.bytes("2464c4abcf10c957010000005cf79f111f8130c3eee29480")
        let early = Self.answer(table, try Self.query(cookie: sent),
                                cookies: ServerCookies(now: 1_559_731_985 - 301, current: Self.rfcSecret))
        #expect(early.outcome.cookie == .clientOnly)
        let skewed = Self.answer(table, try Self.query(cookie: sent),
                                 cookies: ServerCookies(now: 1_559_731_985 - 300, current: Self.rfcSecret))
        #expect(skewed.outcome.cookie == .valid)
    }

    /// RFC 7873 §5.2.2: a COOKIE option of 0 to 7 bytes, 9 to 15 or over 40 is malformed: FORMERR.
    @Test(arguments: [0, 7, 9, 15, 41])
    func aMalformedCookieGetsFormErr(length: Int) throws {
        let table = try Fixture.table()
        let result = Self.answer(table, try Self.query(cookie: [UInt8](repeating: 7, count: length)),
                                 cookies: ServerCookies(now: 1_559_731_985, current: Self.rfcSecret))
        #expect(WireQuery.header(of: result.response)?.rcode == .formErr)
        #expect(result.cookie == nil)
    }

    @Test(arguments: [8, 16, 24, 40])
    func everyWellFormedLengthGetsAnAnswerAndAServerCookie(length: Int) throws {
        let table = try Fixture.table()
        let result = Self.answer(table, try Self.query(cookie: [UInt8](repeating: 7, count: length)),
                                 cookies: ServerCookies(now: 1_559_731_985, current: Self.rfcSecret))
        #expect(WireQuery.header(of: result.response)?.rcode == .noError)
        #expect(result.cookie?.prefix(8).elementsEqual([UInt8](repeating: 7, count: 8)) == true)
        #expect(result.outcome.cookie == .clientOnly)
    }

    @Test func cookiesOffIgnoreTheOption() throws {
        let table = try Fixture.table()
        let result = Self.answer(table, try Self.query(cookie: [UInt8](repeating: 7, count: 9)), cookies: .disabled)
        #expect(WireQuery.header(of: result.response)?.rcode == .noError)
        #expect(result.cookie == nil)
        #expect(result.outcome.cookie == .none)
    }

    @Test func aSlippedResponseIsTruncatedOrBadCookie() throws {
        let table = try Fixture.table()
        let cookies = ServerCookies(now: 1_559_731_985, current: Self.rfcSecret)
        var output = [UInt8](repeating: 0, count: 65535)
        // Without a cookie: TC=1, the question, no records.
        let plain = try WireQuery.make(id: 7, name: "www.example.com", type: .a)
        var length = plain.withUnsafeBytes { query in
            output.withUnsafeMutableBytes { table.respondSlipped(to: query, source: Self.v4Client, into: $0, cookies: cookies) }
        }
        let truncated = try Message(wire: Array(output[..<length]))
        #expect(truncated.tc)
        #expect(truncated.answer.isEmpty)
        #expect(WireQuery.header(of: Array(output[..<length]))?.rcode == .noError)
        // With a client cookie: BADCOOKIE (extended RCODE 23: 7 in the header, 1 in the OPT) and a fresh cookie.
        let withCookie = try Self.query(cookie: Self.bytes("2464c4abcf10c957"))
        length = withCookie.withUnsafeBytes { query in
            output.withUnsafeMutableBytes { table.respondSlipped(to: query, source: Self.v4Client, into: $0, cookies: cookies) }
        }
        let response = Array(output[..<length])
        #expect(WireQuery.header(of: response)?.rcode == RCode(header: RCode.badCookie.header))
        #expect(response[2] & 0x02 == 0)
        #expect(Self.hex(response.suffix(24)) == "2464c4abcf10c957010000005cf79f111f8130c3eee29480")
        // The OPT's extended RCODE byte: the OPT is 11 + 28 bytes from the end.
        #expect(response[response.count - 39 + 5] == 1)
    }
}
