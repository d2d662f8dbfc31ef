import ClusterController
import Foundation
import KubeClient
import MCDNSModel
import Testing

/// The pure pieces of the host-cluster half: user specs over annotations, the status document, lease timings.
@Suite struct HostPiecesTests {
    static func member(annotations: [String: String]) -> MergeInput {
        MergeInput(
            cluster: "east-1",
            topology: F.east1,
            service: F.service(clusterIPs: ["10.96.0.10"], annotations: annotations),
            slices: [F.slice("web-1", [F.endpoint("10.0.0.1", ready: true)])]
        )
    }

    @Test func userSpecFieldsWinOverAnnotationsFieldByField() throws {
        let annotated = Self.member(annotations: [
            "mcdns.io/export": "true", "mcdns.io/ttl": "60", "mcdns.io/dns-prefix": "shop",
        ])
        let plain = try #require(RecordMerger.merge(key: F.key, members: [annotated]))
        #expect(plain.spec.recordTTL == 60 && plain.spec.dnsPrefix == "shop")

        let user = KubeServiceDNSRecord.Spec(recordTTL: 7, externalName: "store")
        let merged = try #require(RecordMerger.merge(key: F.key, members: [annotated], userSpec: user))
        #expect(merged.spec.recordTTL == 7)
        #expect(merged.spec.externalName == "store")
        #expect(merged.spec.dnsPrefix == "shop")  // not set by the user: the annotation stays
        // The user's spec is not a conflict between members.
        #expect(!merged.status.conditions.contains { $0.type == RecordMerger.ConditionType.conflict })

        // allowServiceWithoutEndpoints: either may turn it on, a false never turns the annotation's off.
        let allowing = Self.member(annotations: [
            "mcdns.io/export": "true", "mcdns.io/allow-service-without-endpoints": "true",
        ])
        let off = KubeServiceDNSRecord.Spec(allowServiceWithoutEndpoints: false)
        #expect(
            RecordMerger.merge(key: F.key, members: [allowing], userSpec: off)?.spec.allowServiceWithoutEndpoints
                == true
        )
        let on = KubeServiceDNSRecord.Spec(allowServiceWithoutEndpoints: true)
        #expect(
            RecordMerger.merge(key: F.key, members: [annotated], userSpec: on)?.spec.allowServiceWithoutEndpoints
                == true
        )
    }

    @Test func aUsersTrafficPolicyWinsOverTheAnnotationAndABadOneIsReported() throws {
        let annotated = Self.member(annotations: ["mcdns.io/export": "true", "mcdns.io/traffic-policy": "failover: west-1"])
        let user = KubeServiceDNSRecord.Spec(trafficPolicy: "weighted: east-1=3, west-1=1")
        let merged = try #require(RecordMerger.merge(key: F.key, members: [annotated], userSpec: user))
        #expect(merged.spec.trafficPolicy == .weighted([.init(key: "east-1", weight: 3), .init(key: "west-1", weight: 1)]))
        // A spec that does not parse keeps the annotation's policy and says so in Degraded.
        let bad = KubeServiceDNSRecord.Spec(trafficPolicy: "roundrobin")
        let kept = try #require(RecordMerger.merge(key: F.key, members: [annotated], userSpec: bad))
        #expect(kept.spec.trafficPolicy == .failover(["west-1"]))
        let degraded = kept.status.conditions.first { $0.type == RecordMerger.ConditionType.degraded }
        #expect(degraded?.reason == "InvalidSpec")
        #expect(degraded?.message.contains("unknown strategy \"roundrobin\"") == true, "\(String(describing: degraded))")
        // spec.trafficPolicy carries answers: N in the same text; a limit given twice is reported the same way.
        let limited = KubeServiceDNSRecord.Spec(trafficPolicy: "weighted: east-1=3; answers: 1")
        #expect(RecordMerger.merge(key: F.key, members: [annotated], userSpec: limited)?.spec.trafficPolicy
                == .weighted([.init(key: "east-1", weight: 3)], answers: 1))
        let twice = KubeServiceDNSRecord.Spec(trafficPolicy: "answers: 1; answers: 2")
        let reported = try #require(RecordMerger.merge(key: F.key, members: [annotated], userSpec: twice))
        #expect(reported.spec.trafficPolicy == .failover(["west-1"]))
        #expect(reported.status.conditions.first { $0.type == RecordMerger.ConditionType.degraded }?.message
                .contains("answers is given twice") == true)
    }

    @Test func statusDocumentIsStableAndKeepsTransitionTimes() throws {
        let record = try #require(
            RecordMerger.merge(
                key: F.key,
                members: [Self.member(annotations: ["mcdns.io/export": "true"])]
            )
        )
        let first = RecordStatusDocument.render(
            record,
            observedGeneration: 2,
            previous: nil,
            now: Date(timeIntervalSince1970: 1_700_000_000)
        )
        #expect(first["observedGeneration"] == 2)
        let dns = try #require(
            first["dns"].flatMap { value -> [KubeValue]? in
                if case .array(let items) = value.content { return items }
                return nil
            }
        )
        #expect(dns.first?["cluster"] == "east-1")
        #expect(dns.first?["region"] == "us-east-1")
        #expect(dns.first?["readyEndpoints"] == 1)
        #expect(dns.first?["clusterIPs"] == ["10.96.0.10"])
        // Rendered later from what the server holds: identical, so nothing would be written.
        let later = RecordStatusDocument.render(
            record,
            observedGeneration: 2,
            previous: first,
            now: Date(timeIntervalSince1970: 1_700_000_600)
        )
        #expect(later == first)
        // A condition whose status flips gets a new transition time.
        var notReady = record
        notReady.status.conditions = notReady.status.conditions.map { condition in
            var condition = condition
            if condition.type == "Ready" { condition.status = .false }
            return condition
        }
        let flipped = RecordStatusDocument.render(
            notReady,
            observedGeneration: 2,
            previous: first,
            now: Date(timeIntervalSince1970: 1_700_000_600)
        )
        #expect(flipped != first)
        guard case .array(let conditions)? = flipped["conditions"]?.content else {
            Issue.record("no conditions")
            return
        }
        let ready = conditions.first { $0["type"] == "Ready" }
        #expect(ready?["lastTransitionTime"] == "2023-11-14T22:23:20Z")
    }

    @Test func leaseTimingsFollowClientGoRules() {
        #expect(throws: ControllerError.self) {
            try LeaderElectionConfiguration(namespace: "ns", leaseDuration: .seconds(5), renewDeadline: .seconds(5))
                .validate()
        }
        #expect(throws: ControllerError.self) {
            try LeaderElectionConfiguration(namespace: "ns", renewDeadline: .seconds(2), retryPeriod: .seconds(2))
                .validate()
        }
        #expect(throws: ControllerError.self) {
            try LeaderElectionConfiguration(namespace: "").validate()
        }
        #expect(throws: Never.self) { try LeaderElectionConfiguration(namespace: "ns").validate() }
        let identity = LeaderElectionConfiguration.defaultIdentity(environment: ["POD_NAME": "mcdns-7d9f-abc"])
        #expect(identity == "mcdns-7d9f-abc_\(ProcessInfo.processInfo.processIdentifier)")
    }
}
