import Foundation
@testable import MCDNSModel
import Testing

/// The merged model's compact forms (issue 3's memory goal): a record's spec and an endpoint keep every field
/// through any sequence of edits, compare and hash by value, and encode exactly as plain fields did.
@Suite struct CompactModelTests {
    func json<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test func aSpecTakesSixteenBytesAndKeepsEveryField() throws {
        #expect(MemoryLayout<ServiceDNSRecord.Spec>.stride == 16)
        var spec = ServiceDNSRecord.Spec()
        #expect(spec.domainRef == nil && spec.recordTTL == nil && spec.dnsPrefix == nil && spec.externalName == nil)
        #expect(try json(spec) == #"{"allowServiceWithoutEndpoints":false}"#)
        let copy = spec
        spec.dnsPrefix = "www"
        spec.recordTTL = 0
        spec.externalName = "shop"
        spec.domainRef = "acme"
        spec.allowServiceWithoutEndpoints = true
        // The copy taken before is untouched: the texts' box is never changed in place.
        #expect(copy == ServiceDNSRecord.Spec())
        #expect(spec == ServiceDNSRecord.Spec(domainRef: "acme", recordTTL: 0, dnsPrefix: "www", externalName: "shop",
                                              allowServiceWithoutEndpoints: true))
        #expect(try json(spec) == #"{"allowServiceWithoutEndpoints":true,"dnsPrefix":"www","domainRef":"acme","externalName":"shop","recordTTL":0}"#)
        #expect(try JSONDecoder().decode(ServiceDNSRecord.Spec.self, from: Data(try json(spec).utf8)) == spec)
        // Unset again, one by one: each leaves the others as they were.
        spec.dnsPrefix = nil
        #expect(spec.externalName == "shop" && spec.domainRef == "acme" && spec.dnsPrefix == nil)
        spec.recordTTL = nil
        #expect(spec.recordTTL == nil && spec.allowServiceWithoutEndpoints)
        spec.domainRef = nil
        spec.externalName = nil
        spec.allowServiceWithoutEndpoints = false
        #expect(spec == copy && spec.hashValue == copy.hashValue)
        #expect(ServiceDNSRecord.Spec(recordTTL: 30) != ServiceDNSRecord.Spec(recordTTL: 31))
        #expect(ServiceDNSRecord.Spec(recordTTL: 0) != ServiceDNSRecord.Spec())
    }

    @Test func anEndpointTakesThirtyTwoBytesAndKeepsEveryField() throws {
        #expect(MemoryLayout<Endpoint>.stride == 32)
        var endpoint = Endpoint(address: "10.0.0.1")
        #expect(endpoint.ready && endpoint.serving && !endpoint.terminating)
        #expect(endpoint.hostname == nil && endpoint.zone == nil)
        #expect(try json(endpoint) == #"{"address":"10.0.0.1","ready":true,"serving":true,"terminating":false}"#)
        endpoint.ready = false
        endpoint.terminating = true
        #expect(!endpoint.ready && endpoint.serving && endpoint.terminating)
        endpoint.zone = "us-east-1a"
        endpoint.hostname = "web-0"
        #expect(endpoint.zone == "us-east-1a" && endpoint.hostname == "web-0")
        #expect(try json(endpoint) == #"{"address":"10.0.0.1","hostname":"web-0","ready":false,"serving":true,"terminating":true,"zone":"us-east-1a"}"#)
        #expect(try JSONDecoder().decode(Endpoint.self, from: Data(try json(endpoint).utf8)) == endpoint)
        endpoint.hostname = nil
        #expect(endpoint.zone == "us-east-1a" && endpoint.hostname == nil)
        endpoint.zone = nil
        #expect(endpoint == Endpoint(address: "10.0.0.1", ready: false, terminating: true))
        #expect(endpoint != Endpoint(address: "10.0.0.1", ready: false, serving: false, terminating: true))
        #expect(endpoint != Endpoint(address: "10.0.0.1", zone: "z", ready: false, terminating: true))
    }

    /// Endpoints of one zone without a hostname hold one box; ones with a hostname their own, yet equal ones
    /// compare and hash equal.
    @Test func endpointsOfAZoneShareTheirNames() {
        let a = Endpoint(address: "10.0.0.1", zone: "us-east-1a")
        let b = Endpoint(address: "10.0.0.2", zone: "us-east-1a")
        let c = Endpoint(address: "10.0.0.3", zone: "us-east-1b")
        #expect(EndpointNames.shareNames(a, b))
        #expect(!EndpointNames.shareNames(a, c))
        let h1 = Endpoint(address: "10.0.0.1", hostname: "web-0", zone: "us-east-1a")
        let h2 = Endpoint(address: "10.0.0.1", hostname: "web-0", zone: "us-east-1a")
        #expect(!EndpointNames.shareNames(h1, h2))
        #expect(h1 == h2 && h1.hashValue == h2.hashValue)
        #expect(Set([h1, h2, a]).count == 2)
        // Past the table's limit it starts again: every endpoint still has its own zone.
        let many = (0..<(EndpointNames.sharedLimit + 10)).map { Endpoint(address: "10.1.0.1", zone: "zone-\($0)") }
        #expect(many.enumerated().allSatisfy { $1.zone == "zone-\($0)" })
    }
}
