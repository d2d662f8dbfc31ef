import Foundation
import KubeAPISimulator

/// Objects and simulators the tests share.
enum Fixtures {
    static let tokens = ["admin-token": "admin", "limited-token": "limited"]

    static func start(
        bookmarkInterval: Duration = .seconds(1),
        allowedUsers: [SimResource: Set<String>] = [:],
        anonymousAuth: Bool = true,
        maxPageSize: Int = 500
    ) async throws -> KubeAPISimulator {
        try await KubeAPISimulator.start(
            SimulatorConfiguration(
                tokens: tokens, allowedUsers: allowedUsers, anonymousAuth: anonymousAuth,
                bookmarkInterval: bookmarkInterval, maxPageSize: maxPageSize
            )
        )
    }

    static func service(_ name: String, namespace: String = "demo", labels: [String: String] = [:], port: Int = 80)
        -> String
    {
        var allLabels = ["app": name]
        for (key, value) in labels { allLabels[key] = value }
        let object: [String: Any] = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": name, "namespace": namespace, "labels": allLabels],
            "spec": ["selector": ["app": name], "ports": [["name": "http", "port": port, "targetPort": 8080]]],
        ]
        return text(object)
    }

    static func endpointSlice(_ name: String, service: String, namespace: String = "demo", addresses: [String])
        -> String
    {
        let object: [String: Any] = [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": [
                "name": name, "namespace": namespace, "labels": ["kubernetes.io/service-name": service],
            ],
            "addressType": "IPv4",
            "ports": [["name": "http", "port": 8080, "protocol": "TCP"]],
            "endpoints": addresses.map { ["addresses": [$0], "conditions": ["ready": true]] },
        ]
        return text(object)
    }

    static func text(_ object: Any) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    static func metadata(_ object: [String: Any]) -> [String: Any] {
        object["metadata"] as? [String: Any] ?? [:]
    }

    static func name(_ object: [String: Any]) -> String {
        metadata(object)["name"] as? String ?? ""
    }

    static func resourceVersion(_ object: [String: Any]) -> String {
        metadata(object)["resourceVersion"] as? String ?? ""
    }

    static func items(_ list: [String: Any]) -> [[String: Any]] {
        list["items"] as? [[String: Any]] ?? []
    }

    /// Polls `condition` until it holds or `timeout` passes (readiness, never a fixed sleep).
    static func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
