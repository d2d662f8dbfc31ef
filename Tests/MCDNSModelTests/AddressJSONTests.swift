import Foundation
import MCDNSModel
import Testing

/// A record's addresses (endpoints, load balancer ingress, cluster IPs) encode as the same JSON bytes the model
/// wrote when it kept them as strings: state files, the admin API and `records` output do not change.
@Suite struct AddressJSONTests {
    static func record() -> ServiceDNSRecord {
        var record = ServiceDNSRecord(key: ServiceKey(namespace: "shop", name: "web"))
        record.status.dns = [
            ClusterDNS(
                cluster: "east-1",
                region: "r",
                zones: ["z"],
                loadBalancer: [LoadBalancerIngress(ip: "203.0.113.7"), LoadBalancerIngress(hostname: "lb.example.com"),
                               LoadBalancerIngress(ip: "2001:db8::7", hostname: "both.example.com")],
                clusterIPs: ["10.96.0.10", "fd00:10:96::a"],
                endpoints: [
                    Endpoint(address: "10.1.0.9", hostname: "pod-a", zone: "z"),
                    Endpoint(address: "10.1.0.10", zone: "z", ready: false),
                    Endpoint(address: "::ffff:1.2.3.4"),
                    Endpoint(address: "2001:db8::1", serving: false, terminating: true),
                ],
                readyEndpoints: 3
            )
        ]
        return record
    }

    /// Written by the model before addresses were typed (main at 4f2c3af), with sorted keys as the state file does.
    static let golden = #"""
        {"key":{"name":"web","namespace":"shop"},"spec":{"allowServiceWithoutEndpoints":false},"status":{"conditions":[],"dns":[{"cluster":"east-1","clusterIPs":["10.96.0.10","fd00:10:96::a"],"endpoints":[{"address":"10.1.0.9","hostname":"pod-a","ready":true,"serving":true,"terminating":false,"zone":"z"},{"address":"10.1.0.10","ready":false,"serving":true,"terminating":false,"zone":"z"},{"address":"::ffff:1.2.3.4","ready":true,"serving":true,"terminating":false},{"address":"2001:db8::1","ready":true,"serving":false,"terminating":true}],"loadBalancer":[{"ip":"203.0.113.7"},{"hostname":"lb.example.com"},{"hostname":"both.example.com","ip":"2001:db8::7"}],"readyEndpoints":3,"region":"r","stale":false,"zones":["z"]}],"headless":false,"ports":[]}}
        """#

    static func encoded(_ record: ServiceDNSRecord) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(record), as: UTF8.self)
    }

    @Test func aRecordWithAddressesEncodesAsBefore() throws {
        let text = try Self.encoded(Self.record())
        #expect(text == Self.golden)
    }

    @Test func decodingTheGoldenTextGivesTheSameRecordAndBytes() throws {
        let decoded = try JSONDecoder().decode(ServiceDNSRecord.self, from: Data(Self.golden.utf8))
        #expect(decoded == Self.record())
        #expect(try Self.encoded(decoded) == Self.golden)
    }
}
