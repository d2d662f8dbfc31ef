import DNSAnswer
@testable import DNSServer
import DNSWire
import Testing

/// The query counters' buckets, fed typed query types and response headers without sockets.
@Suite struct QueryCountersTests {
    /// The `type` label values `/metrics` has always carried.
    @Test func typeLabelsAreTheCountedMnemonicsThenOther() {
        #expect(
            QueryCounters.typeBuckets == ["A", "AAAA", "CNAME", "SRV", "TXT", "SOA", "NS", "MX", "PTR", "ANY", "other"]
        )
        #expect(QueryCounters.typeBucket(.dname) == QueryCounters.typeBuckets.count - 1)
    }

    /// Byte 3 of the header: RA, Z, AD and CD beside the RCODE do not move the bucket.
    @Test(arguments: [
        (UInt8(0x00), "NOERROR"), (0x83, "NXDOMAIN"), (0x05, "REFUSED"), (0x09, "NOTAUTH"), (0x07, "YXRRSET"),
    ])
    func countsByTypeAndHeaderRCode(flags: UInt8, label: String) {
        let statistics = QueryStatistics()
        let counters = statistics.makeWorkerCounters()
        let response: [UInt8] = [0x12, 0x34, 0x84, flags, 0, 1, 0, 0, 0, 0, 0, 0]
        response.withUnsafeBytes {
            counters.count(transport: .udp, qtype: .aaaa, response: $0.baseAddress!, length: 12)
        }
        counters.count(transport: .tcp, qtype: RRType(65280), response: response, length: 0)
        let queries = statistics.totals().queries
        #expect(queries == [
            .init(transport: "udp", type: "AAAA", rcode: label): 1,
            .init(transport: "tcp", type: "other", rcode: "dropped"): 1,
        ])
    }
}
