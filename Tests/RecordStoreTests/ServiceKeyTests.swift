import Foundation
import MCDNSModel
import RecordStore
import Testing

/// `ServiceKey` keeps namespace and name in one string behind the namespace's length (issue 3's memory goal).
/// It must give back both parts exactly, whatever they hold, and order, compare and encode as the pair does.
@Suite struct ServiceKeyTests {
    static let pairs: [(String, String)] = [
        ("shop", "web"), ("", ""), ("", "web"), ("shop", ""), ("a/b", "c"), ("a", "b/c"), ("12:x", "3:y"),
        ("1", "0"), ("10", "x"), ("ünï", "cödé"), (String(repeating: "n", count: 300), "long-name-beyond-fifteen"),
        ("a:", ":b"), ("a", "b"), ("a-x", "c"), ("ab", ""), ("a", "b:"),
    ]

    @Test func givesBackBothParts() {
        for (namespace, name) in Self.pairs {
            let key = ServiceKey(namespace: namespace, name: name)
            #expect(key.namespace == namespace && key.name == name, "\(namespace) \(name)")
            #expect(key.description == "\(namespace)/\(name)")
        }
        // Setting one part keeps the other.
        var key = ServiceKey(namespace: "shop", name: "web")
        key.name = "api-gateway-service"
        key.namespace = "prod"
        #expect(key == ServiceKey(namespace: "prod", name: "api-gateway-service"))
        #expect(MemoryLayout<ServiceKey>.size == 16)
    }

    /// Pairs that join to the same text ("a/b" + "c", "a" + "b/c") stay different keys.
    @Test func equalityAndOrderAreThoseOfThePair() {
        for (a, b) in Self.pairs {
            for (c, d) in Self.pairs {
                let left = ServiceKey(namespace: a, name: b)
                let right = ServiceKey(namespace: c, name: d)
                #expect((left == right) == (a == c && b == d), "\(a) \(b) vs \(c) \(d)")
                #expect((left < right) == ((a, b) < (c, d)), "\(a) \(b) < \(c) \(d)")
                if left == right { #expect(left.hashValue == right.hashValue) }
            }
        }
    }

    @Test func encodesAsNamespaceAndName() throws {
        let key = ServiceKey(namespace: "shop", name: "web")
        let json = try JSONEncoder().encode(key)
        let object = try #require(try JSONSerialization.jsonObject(with: json) as? [String: String])
        #expect(object == ["namespace": "shop", "name": "web"])
        #expect(try JSONDecoder().decode(ServiceKey.self, from: json) == key)
    }
}

/// `HeapArenas.limit` keeps glibc to one arena, unless `MALLOC_ARENA_MAX` chooses; `fixMmapThreshold` fixes the
/// mmap threshold, unless `MALLOC_MMAP_THRESHOLD_` chooses.
@Suite struct HeapArenasTests {
    @Test func limitsUnlessTheEnvironmentChooses() {
        #expect(HeapArenas.limit(environment: ["MALLOC_ARENA_MAX": "4"]) == .leftToEnvironment("4"))
        #if SANITIZED
            // AddressSanitizer's allocator replaces glibc's: its mallopt declines, and the store says so.
            #expect(HeapArenas.limit(to: 1, environment: [:]) == .unavailable)
        #else
            #expect(HeapArenas.limit(to: 1, environment: [:]) == .limited(1))
        #endif
    }

    @Test func fixesTheMmapThresholdUnlessTheEnvironmentChooses() {
        #expect(HeapArenas.fixMmapThreshold(environment: ["MALLOC_MMAP_THRESHOLD_": "65536"]) == .leftToEnvironment("65536"))
        #if SANITIZED
            #expect(HeapArenas.fixMmapThreshold(environment: [:]) == .unavailable)
        #else
            #expect(HeapArenas.fixMmapThreshold(environment: [:]) == .limited(HeapArenas.mmapThreshold))
        #endif
    }
}
