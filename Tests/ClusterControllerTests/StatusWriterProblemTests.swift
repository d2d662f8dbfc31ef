import ClusterController
import Foundation
import KubeAPISimulator
import KubeClient
import MCDNSModel
import Testing

/// Issue 18: what the status writer cannot do is said once per cause and again when it clears; a user's record
/// whose service left every member says so; every written status carries a summary for `kubectl get`.
@Suite(.serialized) struct StatusWriterProblemTests {
    static func status(_ sim: KubeAPISimulator, _ name: String) -> [String: Any]? {
        sim.get(.serviceDNSRecords, namespace: "shop", name: name).flatMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["status"] as? [String: Any]
        }
    }

    static func ready(_ status: [String: Any]?) -> [String: Any]? {
        (status?["conditions"] as? [[String: Any]])?.first { $0["type"] as? String == "Ready" }
    }

    @Test func aMissingNamespaceIsWarnedOnceReportedAndClearedWhenItsRecordGoes() async throws {
        var configuration = SimulatorConfiguration(
            tokens: StatusWriterTests.tokens,
            bookmarkInterval: .milliseconds(500)
        )
        configuration.namespaces = ["mcdns-system"]
        let sim = try await KubeAPISimulator.start(configuration)
        defer { Task { try? await sim.stop() } }
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim, resync: .milliseconds(100))
        defer { Task { await a.stop() } }
        a.publish(address: "10.0.0.1")

        #expect(await a.advance { a.writer.problems.first?.cause == .namespaceMissing })
        let rounds = a.writer.statistics.rounds
        // Many rounds later the cause is still reported, and was warned about once.
        #expect(await a.advance { a.writer.statistics.rounds >= rounds + 5 })
        let report = try #require(a.writer.problems.first)
        #expect(a.writer.problems.count == 1)
        #expect(report.services == 1 && report.example == "shop/web")
        #expect(report.message == "namespaces \"shop\" not found")
        #expect(report.advice.contains("kubectl create namespace"))
        #expect(a.writer.statistics.problemWarnings == 1)
        #expect(sim.webRecord() == nil)

        // The service leaves: nothing is left to write, the cause clears.
        a.withdraw()
        #expect(await a.advance { a.writer.problems.isEmpty })
        #expect(a.writer.statistics.problemWarnings == 1)
    }

    @Test func aUserRecordWhoseServiceLeftEveryMemberIsNotReadyAndStatusesCarryASummary() async throws {
        let sim = try await StatusWriterTests.simulator()
        defer { Task { try? await sim.stop() } }
        try sim.create(
            #"{"apiVersion":"multicluster.mcdns.io/v1alpha1","kind":"ServiceDNSRecord","metadata":{"name":"api","namespace":"shop"},"spec":{"recordTTL":5}}"#
        )
        let a = try HostReplica(name: "replica-a", token: "token-a", sim: sim, resync: .milliseconds(100))
        defer { Task { await a.stop() } }
        a.publish(address: "10.0.0.1")

        #expect(await a.advance { Self.status(sim, "web")?["readyCount"] as? String == "1/1" })
        #expect(Self.status(sim, "web")?["readyClusters"] as? String == "east-1")
        #expect(
            await a.advance { Self.ready(Self.status(sim, "api"))?["reason"] as? String == "ServiceNotExported" }
        )
        let api = try #require(Self.ready(Self.status(sim, "api")))
        #expect(api["status"] as? String == "False")
        #expect((api["message"] as? String)?.contains("no member cluster exports the service shop/api") == true)
        #expect(Self.status(sim, "api")?["readyCount"] as? String == "0/0")
        // The user's object stays, also through the rounds after.
        #expect(await a.settle())
        #expect(sim.get(.serviceDNSRecords, namespace: "shop", name: "api") != nil)
    }

    @Test func causesAreToldFromTheAPIServersAnswers() {
        let namespace = KubeStatus(code: 404, reason: "NotFound", message: "namespaces \"shop\" not found")
        #expect(HostStatusProblem(.notFound(namespace)) == .namespaceMissing)
        let resource = "the server could not find the requested resource"
        #expect(HostStatusProblem(.notFound(KubeStatus(code: 404, reason: "NotFound", message: resource))) == .crdMissing)
        #expect(HostStatusProblem(.status(code: 403, KubeStatus(code: 403, reason: "Forbidden"))) == .forbidden)
        #expect(HostStatusProblem(.notFound(KubeStatus(message: "servicednsrecords \"web\" not found"))) == nil)
        #expect(HostStatusProblem(.status(code: 500, KubeStatus())) == nil)
        #expect(HostStatusProblem(.transport("refused")) == nil)
    }
}
