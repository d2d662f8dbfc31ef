import Foundation
import MCDNSModel
import Testing

/// `ServiceDNSRecord` keeps its fields in a shared copy-on-write box (issue 3's memory goal). It must still
/// behave as a plain value: a change to one copy never shows in another, and equality, hashing and the JSON
/// form (the state file's) are those of its fields.
@Suite struct ServiceDNSRecordValueTests {
    static func record() -> ServiceDNSRecord {
        ServiceDNSRecord(
            key: ServiceKey(namespace: "shop", name: "web"),
            spec: .init(recordTTL: 30),
            status: .init(dns: [ClusterDNS(cluster: ClusterID("east-1"), region: "r", zones: ["z"],
                                           endpoints: [Endpoint(address: "10.0.0.1")], readyEndpoints: 1)],
                          ports: [ServicePort(name: "http", protocol: "TCP", port: 80)])
        )
    }

    @Test func aChangedCopyLeavesTheOriginalAlone() {
        let original = Self.record()
        var copy = original
        #expect(copy == original)
        copy.status.dns[0].endpoints.append(Endpoint(address: "10.0.0.2"))
        copy.spec.recordTTL = 5
        copy.key.name = "api"
        #expect(original.status.dns[0].endpoints.map(\.address) == ["10.0.0.1"])
        #expect(original.spec.recordTTL == 30)
        #expect(original.key.name == "web")
        #expect(copy.status.dns[0].endpoints.map(\.address) == ["10.0.0.1", "10.0.0.2"])
        #expect(copy != original)
        // A copy kept in a dictionary does not follow a change made through another copy.
        var byKey = [original.key: original]
        var changed = original
        changed.status.headless = true
        #expect(byKey[original.key]?.status.headless == false)
        byKey[original.key]?.status.headless = true
        #expect(original.status.headless == false)
        #expect(byKey[original.key] == changed)
    }

    @Test func equalFieldsMeanEqualRecordsAndHashes() {
        let a = Self.record()
        let b = Self.record()
        #expect(a == b)
        #expect(a.hashValue == b.hashValue)
        #expect(Set([a, b]).count == 1)
        var c = b
        c.status.dns[0].readyEndpoints = 0
        #expect(a != c)
    }

    @Test func theJSONFormIsTheFieldsAsBefore() throws {
        let data = try JSONEncoder().encode(Self.record())
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(Set(object.keys) == ["key", "spec", "status"])
        #expect(try JSONDecoder().decode(ServiceDNSRecord.self, from: data) == Self.record())
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(ServiceDNSRecord.self, from: Data(#"{"key":{"namespace":"a","name":"b"}}"#.utf8))
        }
    }
}
