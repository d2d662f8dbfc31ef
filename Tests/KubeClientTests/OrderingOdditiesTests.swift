import KubeClient
import Logging
import Synchronization
import Testing

/// Test 11: event orders a consistent server does not produce, but a proxy, a restarted watch cache or a bug can.
@Suite("Watch ordering oddities (test 11)")
struct OrderingOdditiesTests {
    static func service(_ name: String, uid: String, rv: String, ip: String) -> String {
        #"{"kind":"Service","apiVersion":"v1","metadata":{"name":""# + name + #"","namespace":"shop","uid":""# + uid
            + #"","resourceVersion":""# + rv + #""},"spec":{"clusterIP":""# + ip + #"","ports":[{"port":80}]}}"#
    }

    static func event(_ type: String, _ object: String) -> String { #"{"type":""# + type + #"","object":"# + object + "}\n" }

    @Test func storeFollowsOddOrdersAndEndsConsistent() async throws {
        let list = #"{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":["#
            + Self.service("a", uid: "u-a", rv: "5", ip: "10.0.0.1") + "]}"
        let stream = [
            // MODIFIED for an object never seen: taken as an upsert.
            Self.event("MODIFIED", Self.service("ghost", uid: "u-g", rv: "11", ip: "10.0.0.9")),
            // DELETED for an unknown object: nothing to remove, no failure.
            Self.event("DELETED", Self.service("never", uid: "u-n", rv: "12", ip: "10.0.0.8")),
            // A duplicate ADDED: the second wins, one object.
            Self.event("ADDED", Self.service("a", uid: "u-a", rv: "13", ip: "10.0.0.1")),
            Self.event("ADDED", Self.service("a", uid: "u-a", rv: "14", ip: "10.0.0.2")),
            // The same name re-created with a new UID.
            Self.event("DELETED", Self.service("ghost", uid: "u-g", rv: "15", ip: "10.0.0.9")),
            Self.event("ADDED", Self.service("ghost", uid: "u-g2", rv: "16", ip: "10.0.0.10")),
            #"{"type":"BOOKMARK","object":{"kind":"Service","apiVersion":"v1","metadata":{"resourceVersion":"17"}}}"# + "\n",
        ]
        let connector = ScriptedConnector(listBody: list, watches: [stream])
        let reflector = Reflector(kind: .service, connector: connector, cluster: "odd", logger: Logger(label: "test"))
        let store = Mutex(KubeObjectStore())
        let task = Task {
            try? await reflector.run { event in store.withLock { $0.apply(event, kind: .service) } }
        }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(10)
        while reflector.statistics.snapshot.resourceVersion != "17", ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        let statistics = reflector.statistics.snapshot
        task.cancel()
        await task.value
        let objects = store.withLock { $0.objects }
        #expect(objects.count == 2)
        guard case .service(let a)? = objects[KubeObjectRef(kind: .service, namespace: "shop", name: "a")],
            case .service(let ghost)? = objects[KubeObjectRef(kind: .service, namespace: "shop", name: "ghost")]
        else {
            Issue.record("expected shop/a and shop/ghost, have \(objects.keys)")
            return
        }
        #expect(a.clusterIPs == ["10.0.0.2"])
        #expect(a.metadata.resourceVersion == "14")
        #expect(ghost.metadata.uid == "u-g2")
        #expect(ghost.clusterIPs == ["10.0.0.10"])
        #expect(statistics.lists == ["initial": 1])
        #expect(statistics.watchRestarts.isEmpty)
        #expect(statistics.resourceVersion == "17")
    }

    @Test func invalidJSONRestartsTheWatchFromTheLastGoodVersion() async throws {
        let list = #"{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"10"},"items":[]}"#
        let first = [
            Self.event("ADDED", Self.service("a", uid: "u-a", rv: "11", ip: "10.0.0.1")),
            "{\"type\":\"ADDED\",\"object\":{broken\n",
        ]
        let second = [Self.event("ADDED", Self.service("b", uid: "u-b", rv: "12", ip: "10.0.0.2"))]
        let connector = ScriptedConnector(listBody: list, watches: [first, second])
        var configuration = ReflectorConfiguration()
        configuration.initialBackoff = .milliseconds(20)
        let reflector = Reflector(kind: .service, connector: connector, configuration: configuration, cluster: "odd",
                                  logger: Logger(label: "test"))
        let store = Mutex(KubeObjectStore())
        let task = Task {
            try? await reflector.run { event in store.withLock { $0.apply(event, kind: .service) } }
        }
        let deadline = ContinuousClock.now + .seconds(10)
        while store.withLock({ $0.objects.count }) < 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
        }
        task.cancel()
        await task.value
        #expect(store.withLock { $0.objects.count } == 2)
        let statistics = reflector.statistics.snapshot
        #expect(statistics.watchRestarts["invalidEvent"] == 1)
        #expect(statistics.lists == ["initial": 1], "a broken line resumes the watch, it does not relist")
        let watches = connector.requests.withLock { $0.filter { $0.contains("watch=1") } }
        #expect(watches.count == 2)
        #expect(watches.last?.contains("resourceVersion=11&") == true, "\(watches)")
    }
}
