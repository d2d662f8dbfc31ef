import DNSWire
import Testing

@Suite struct RRTypeTests {
    @Test(arguments: [("A", 1), ("aaaa", 28), ("SRV", 33), ("TYPE65280", 65280), ("type0", 0), ("TYPE65535", 65535)])
    func readsMnemonicsAndNumbers(text: String, value: Int) {
        #expect(RRType(mnemonic: text)?.rawValue == UInt16(value))
    }

    /// `ANY`, `AXFR` and `IXFR` have no ldns descriptor: they printed as `TYPE255` and so on, not as they are read.
    @Test(arguments: ["IXFR", "AXFR", "MAILB", "MAILA", "ANY", "A", "TYPE65280"])
    func printsWhatItReads(text: String) throws {
        #expect(try #require(RRType(mnemonic: text)).description == text)
    }

    /// Issue 22, finding 1: `TYPE65536` and friends trapped in `init(mnemonic:)` (ldns reads the number with
    /// `atoi`, and the result did not fit 16 bits), killing the daemon from one admin request.
    @Test(arguments: [
        "TYPE65536", "TYPE-1", "TYPE99999999999999999999", "TYPE4294967296", "TYPE", "TYPE+5", "TYPE 1",
        "TYPE1x", "NOTATYPE", "", "A\u{0}", String(repeating: "A", count: 100),
    ])
    func rejectsNumbersThatDoNotFitAndNonsense(text: String) {
        #expect(RRType(mnemonic: text) == nil)
    }
}
