import Foundation
import KubeAPISimulator
import KubeClient
import Testing

/// Single-object reads and writes over real HTTP against the simulator, and the ServiceDNSRecord projection.
@Suite struct KubeResourceClientTests {
    static func record(_ name: String, spec: KubeValue = KubeValue(.object([:]))) -> KubeValue {
        [
            "apiVersion": "multicluster.mcdns.io/v1alpha1", "kind": "ServiceDNSRecord",
            "metadata": ["name": KubeValue(.string(name)), "namespace": "shop"], "spec": spec,
        ]
    }

    @Test func createGetUpdateStatusDeleteWithTypedErrors() async throws {
        let harness = try await SimHarness.start()
        defer { Task { await harness.stop() } }
        let client = KubeResourceClient(resource: .serviceDNSRecords, connector: harness.connector)

        let created = try await client.create(namespace: "shop", Self.record("web", spec: ["recordTTL": 15]))
        #expect(created["metadata"]?["generation"] == 1)
        #expect(created["metadata"]?["managedFields"] == nil)
        await #expect(throws: KubeAPIError.self) {
            _ = try await client.create(namespace: "shop", Self.record("web"))
        }
        do {
            _ = try await client.create(namespace: "shop", Self.record("web"))
        } catch {
            guard case .alreadyExists(let status) = error else { throw error }
            #expect(status.code == 409 && status.reason == "AlreadyExists")
        }

        // A status write with the current version succeeds and moves the version on.
        let withStatus = created.setting("status", ["observedGeneration": 1, "headless": false])
        let written = try await client.updateStatus(namespace: "shop", name: "web", withStatus)
        #expect(written["status"]?["observedGeneration"] == 1)
        #expect(written["metadata"]?["resourceVersion"] != created["metadata"]?["resourceVersion"])

        // The same (now stale) version again: a typed conflict carrying the server's Status.
        do {
            _ = try await client.updateStatus(namespace: "shop", name: "web", withStatus)
            Issue.record("a stale resourceVersion was accepted")
        } catch {
            guard case .conflict(let status) = error else { throw error }
            #expect(status.code == 409 && status.reason == "Conflict")
            #expect(status.message?.contains("the object has been modified") == true)
        }

        let fetched = try await client.get(namespace: "shop", name: "web")
        #expect(fetched == written)
        guard case .serviceDNSRecord(let decoded)? = try KubeObject.decode(fetched) else {
            Issue.record("not a ServiceDNSRecord")
            return
        }
        #expect(decoded.spec.recordTTL == 15)
        #expect(decoded.generation == 1)
        #expect(decoded.status?["observedGeneration"] == 1)

        // Delete with a stale precondition conflicts; with the current one it goes; then 404.
        let stale = created["metadata"]?["resourceVersion"].flatMap { value -> String? in
            if case .string(let text) = value.content { return text }
            return nil
        }
        await #expect(throws: KubeAPIError.self) {
            try await client.delete(namespace: "shop", name: "web", resourceVersion: stale)
        }
        let current =
            harness.sim.get(.serviceDNSRecords, namespace: "shop", name: "web").flatMap {
                (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["metadata"]
                    as? [String: Any]
            }?["resourceVersion"] as? String
        try await client.delete(namespace: "shop", name: "web", resourceVersion: current)
        do {
            _ = try await client.get(namespace: "shop", name: "web")
            Issue.record("a deleted object was found")
        } catch {
            guard case .notFound(let status) = error else { throw error }
            #expect(status.code == 404)
        }
    }

    @Test func serviceDNSRecordDecodingKeepsSpecLabelAndRawStatus() throws {
        let object = try KubeObject.decode([
            "apiVersion": "multicluster.mcdns.io/v1alpha1", "kind": "ServiceDNSRecord",
            "metadata": [
                "name": "web", "namespace": "shop", "generation": 3,
                "labels": ["app.kubernetes.io/managed-by": "mcdns", "team": "a"],
            ],
            "spec": [
                "recordTTL": 30, "dnsPrefix": "www", "externalName": "store", "allowServiceWithoutEndpoints": true,
            ],
            "status": ["headless": true],
        ])
        guard case .serviceDNSRecord(let record)? = object else {
            Issue.record("not a ServiceDNSRecord: \(String(describing: object))")
            return
        }
        #expect(record.generation == 3)
        #expect(record.managedBy == "mcdns")
        #expect(
            record.spec
                == KubeServiceDNSRecord.Spec(
                    recordTTL: 30,
                    dnsPrefix: "www",
                    externalName: "store",
                    allowServiceWithoutEndpoints: true
                )
        )
        #expect(record.status == ["headless": true])
        #expect(object?.ref == KubeObjectRef(kind: .serviceDNSRecord, namespace: "shop", name: "web"))
        // An empty spec (or the CRD's defaulted false) is no user spec.
        #expect(KubeServiceDNSRecord.Spec(allowServiceWithoutEndpoints: false).isEmpty)

        #expect(throws: KubeDecodingError.self) {
            try KubeObject.decode([
                "apiVersion": "multicluster.mcdns.io/v1alpha1", "kind": "ServiceDNSRecord",
                "metadata": ["name": "web", "namespace": "shop"], "spec": ["recordTTL": -1],
            ])
        }
        #expect(throws: KubeDecodingError.self) {
            try KubeObject.decode([
                "apiVersion": "multicluster.mcdns.io/v1alpha1", "kind": "ServiceDNSRecord",
                "metadata": ["name": "web", "namespace": "shop"], "spec": ["dnsPrefix": 7],
            ])
        }
    }

    @Test func kubeValueRoundTripsThroughJSON() throws {
        let value: KubeValue = ["a": [1, "two", true, nil, 1.5], "b": ["c": "d"]]
        let parsed = try JSONSerialization.jsonObject(with: Data(value.jsonBytes()))
        #expect(try KubeValue(jsonObject: parsed) == value)
        let sorted: KubeValue = ["z": 1, "a": 2]
        #expect(String(decoding: sorted.jsonBytes(), as: UTF8.self) == #"{"a":2,"z":1}"#)
    }
}
