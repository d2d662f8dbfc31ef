import ClusterController
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import KubeClient
import MCDNSModel
import Synchronization
import Testing

/// Collects a source's events for a test.
final class EventLog: Sendable {
    private let storage = Mutex<[MemberEvent]>([])
    func append(_ event: MemberEvent) { storage.withLock { $0.append(event) } }
    var events: [MemberEvent] { storage.withLock { $0 } }
}

/// A temporary manifest directory, removed at the end of the test.
final class TemporaryDirectory: Sendable {
    let path: String

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("mcdns-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func write(_ name: String, _ text: String) throws {
        // Write to a temporary name and rename, as editors and kubectl do, so a poll never reads half a file.
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let temporary = ([path] + parts.dropLast().map(String.init) + [".\(parts.last ?? "").tmp"]).joined(
            separator: "/"
        )
        try text.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path + "/" + name) == 0 else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: path + "/" + name])
        }
    }

    func remove(_ name: String) throws {
        try FileManager.default.removeItem(atPath: path + "/" + name)
    }
}

enum Manifests {
    static func service(_ name: String, ip: String) -> String {
        """
        apiVersion: v1
        kind: Service
        metadata:
          name: \(name)
          namespace: shop
          annotations:
            mcdns.io/export: "true"
        spec:
          clusterIP: \(ip)
          ports:
            - name: http
              port: 80
        """
    }

    static func slice(_ name: String, service: String, addresses: [String]) -> String {
        """
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: \(name)
          namespace: shop
          labels:
            kubernetes.io/service-name: \(service)
        addressType: IPv4
        endpoints:
        \(addresses.map { "  - addresses: [\"\($0)\"]" }.joined(separator: "\n"))
        """
    }
}

extension Manifests {
    /// A ConfigMap with `levels` levels of nine aliases each ("billion laughs"): 9^levels leaves once expanded.
    static func laughs(levels: Int) -> String {
        var text = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: lol, namespace: shop }\ndata:\n"
        text += "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
        for level in 1..<levels {
            let refs = Array(repeating: "*l\(level - 1)", count: 9).joined(separator: ", ")
            text += "  l\(level): &l\(level) [\(refs)]\n"
        }
        return text
    }
}
