import DNSTestSupport
import ClusterController
import KubeClient
import MCDNSModel
import Testing

@Suite("ClusterController")
struct ClusterControllerTests {
    static let web = ServiceKey(namespace: "shop", name: "web")
    static let api = ServiceKey(namespace: "shop", name: "api")

    func configuration(
        _ members: [MemberConfiguration],
        grace: Duration = .seconds(120),
        window: Duration = .zero,
        export: ExportPolicy = ExportPolicy()
    ) -> ControllerConfiguration {
        ControllerConfiguration(members: members, export: export, staleGracePeriod: grace, coalescingWindow: window)
    }

    /// A harness with a 5 ms window on a manual clock whose one member, east-1, has synced, and the number of
    /// batches published by then.
    func syncedBehindAWindow(_ clock: ManualClock, _ east: ScriptedSource) async throws
        -> (ControllerHarness<ManualClock>, Int)
    {
        let harness = try ControllerHarness(
            configuration: configuration([.scripted("east-1", region: "r", zones: ["z"])], window: .milliseconds(5)),
            sources: [east],
            clock: clock
        )
        east.send(.synced)
        _ = await Self.advance(clock, harness) { $0.cluster("east-1")?.link == .synced }
        return (harness, harness.sink.current.batches.count)
    }

    /// Advances the clock a window at a time (each step may release a flush) until the sink shows `condition`.
    static func advance(_ clock: ManualClock, _ harness: ControllerHarness<ManualClock>,
                        until condition: (RecordingSink.State) -> Bool) async -> RecordingSink.State {
        while true {
            clock.advance(by: .milliseconds(5))
            if let state = await harness.sink.wait(timeout: .milliseconds(50), until: condition) { return state }
        }
    }

    @Test func linkStatesFollowTheSourceAndTheClock() async throws {
        let clock = ManualClock()
        let east = ScriptedSource("east-1")
        let harness = try ControllerHarness(
            configuration: configuration(
                [.scripted("east-1", region: "us-east-1", zones: ["us-east-1a"])],
                grace: .seconds(120)
            ),
            sources: [east],
            clock: clock
        )
        defer { harness.task.cancel() }

        // Before any sync the member is known, offline, and has no records.
        let initial = await harness.sink.wait { $0.cluster("east-1") != nil }
        #expect(
            initial?.cluster("east-1")
                == ClusterInfo(
                    id: "east-1",
                    locality: Locality(region: "us-east-1", zone: "us-east-1a"),
                    link: .offline
                )
        )
        #expect(initial?.records.isEmpty == true)

        east.send(
            .upsert(.service(F.service(clusterIPs: ["172.20.0.10"]))),
            .upsert(.endpointSlice(F.slice("web-a", [F.endpoint("10.1.0.1")]))),
            .synced
        )
        let synced = await harness.sink.wait { $0.cluster("east-1")?.link == .synced && $0.records[Self.web] != nil }
        #expect(synced?.records[Self.web]?.dns("east-1")?.stale == false)
        #expect(synced?.records[Self.web]?.dns("east-1")?.lastObserved == 1_700_000_000)

        east.send(.linkLost(reason: "connection reset"))
        let stale = await harness.sink.wait { $0.cluster("east-1")?.link == .stale }
        // Stale: the last-known targets stay, flagged.
        #expect(stale?.records[Self.web]?.dns("east-1")?.stale == true)
        #expect(stale?.records[Self.web]?.dns("east-1")?.readyEndpoints == 1)

        clock.advance(by: .seconds(119))
        clock.advance(by: .seconds(2))
        let offline = await harness.sink.wait { $0.cluster("east-1")?.link == .offline }
        #expect(offline != nil)
        // Offline keeps the record (names fall back on the DNS side) with the last observation.
        #expect(offline?.records[Self.web]?.dns("east-1")?.readyEndpoints == 1)
        #expect(offline?.records[Self.web]?.condition("Ready")?.status == .false)

        east.send(.linkRegained)
        let back = await harness.sink.wait {
            $0.cluster("east-1")?.link == .synced && $0.records[Self.web]?.dns("east-1")?.stale == false
        }
        #expect(back != nil)
        await harness.stop()
    }

    @Test func linkComingBackWithinTheGraceNeverGoesOffline() async throws {
        let clock = ManualClock()
        let east = ScriptedSource("east-1")
        let harness = try ControllerHarness(
            configuration: configuration([.scripted("east-1", region: "r", zones: ["z"])], grace: .seconds(10)),
            sources: [east],
            clock: clock
        )
        defer { harness.task.cancel() }

        east.send(.upsert(.service(F.service())), .synced)
        _ = await harness.sink.wait { $0.cluster("east-1")?.link == .synced }
        east.send(.linkLost(reason: "blip"))
        _ = await harness.sink.wait { $0.cluster("east-1")?.link == .stale }
        clock.advance(by: .seconds(9))
        east.send(.synced)
        _ = await harness.sink.wait { $0.cluster("east-1")?.link == .synced }
        clock.advance(by: .seconds(30))
        // A marker event after the advance: once its batch is out, any expiry would have been published too.
        east.send(.upsert(.service(F.service("marker"))))
        let after = await harness.sink.wait { $0.records[ServiceKey(namespace: "shop", name: "marker")] != nil }
        #expect(after?.cluster("east-1")?.link == .synced)
        // Once synced, the member went stale and came back, and never offline.
        let links = after?.batches.compactMap(\.clusters).map { $0[0].link } ?? []
        let firstSync = try #require(links.firstIndex(of: .synced))
        #expect(!links[firstSync...].contains(.offline))
        #expect(links[firstSync...].contains(.stale))
        #expect(links.last == .synced)
        await harness.stop()
    }

    @Test func burstOfEventsIsOneBatch() async throws {
        let clock = ManualClock()
        let east = ScriptedSource("east-1")
        let (harness, batchesBefore) = try await syncedBehindAWindow(clock, east)
        defer { harness.task.cancel() }

        // Many events for two services, all queued before the window closes.
        east.send(.upsert(.service(F.service(clusterIPs: ["10.0.0.1"]))))
        for index in 1...20 {
            east.send(.upsert(.endpointSlice(F.slice("web-a", (1...index).map { F.endpoint(IPAddress("10.1.0.\($0)")!) }))))
        }
        east.send(.upsert(.service(F.service("api"))))
        // Nothing is published while the window is open.
        #expect(await harness.sink.wait(timeout: .milliseconds(100)) { $0.batches.count > batchesBefore } == nil)

        let state: RecordingSink.State? = await Self.advance(clock, harness) { $0.batches.count > batchesBefore }
        let batch = try #require(state?.batches[batchesBefore])
        #expect(batch.upserted.map(\.key) == [Self.api, Self.web])
        #expect(batch.upserted.last?.dns("east-1")?.readyEndpoints == 20)
        #expect(batch.clusters == nil)
        #expect(state?.batches.count == batchesBefore + 1)
        await harness.stop()
    }

    @Test func aLoneChangeAfterAQuietSpellIsPublishedWithoutWaitingForTheWindow() async throws {
        let clock = ManualClock()
        let east = ScriptedSource("east-1")
        let (harness, batchesBefore) = try await syncedBehindAWindow(clock, east)
        defer { harness.task.cancel() }

        // A window has passed since that flush: the next change goes out with no clock advance at all.
        clock.advance(by: .milliseconds(6))
        east.send(.upsert(.service(F.service(clusterIPs: ["10.0.0.1"]))))
        let state = await harness.sink.wait(timeout: .seconds(2)) { $0.batches.count > batchesBefore }
        #expect(state?.batches[batchesBefore].upserted.map(\.key) == [Self.web])

        // A change right behind it waits for the window that flush opened.
        let batchesThen = harness.sink.current.batches.count
        east.send(.upsert(.service(F.service("api"))))
        #expect(await harness.sink.wait(timeout: .milliseconds(100)) { $0.batches.count > batchesThen } == nil)
        clock.advance(by: .milliseconds(5))
        #expect(await harness.sink.wait(timeout: .seconds(2)) { $0.batches.count > batchesThen } != nil)

        // The window runs from a flush's start: after an apply longer than the window (6 ms of 5 on the clock),
        // the change that comes next goes at once, not a window after the apply.
        harness.sink.whileApplying { clock.advance(by: .milliseconds(6)) }
        clock.advance(by: .milliseconds(6))
        let batchesBeforeSlow = harness.sink.current.batches.count
        east.send(.upsert(.service(F.service("db"))))
        #expect(await harness.sink.wait(timeout: .seconds(2)) { $0.batches.count > batchesBeforeSlow } != nil)
        let batchesAfterSlow = harness.sink.current.batches.count
        east.send(.upsert(.service(F.service("cache"))))
        let next = await harness.sink.wait(timeout: .seconds(2)) { $0.batches.count > batchesAfterSlow }
        #expect(next?.batches[batchesAfterSlow].upserted.map(\.key.name) == ["cache"])
        await harness.stop()
    }

    @Test func exportSelectionDecidesWhatIsPublished() async throws {
        let east = ScriptedSource("east-1")
        let harness = try ControllerHarness(
            configuration: configuration(
                [.scripted("east-1", region: "r", zones: ["z"])],
                export: ExportPolicy(namespaces: ["public"])
            ),
            sources: [east],
            clock: ManualClock()
        )
        defer { harness.task.cancel() }

        east.send(
            .upsert(.service(F.service("by-annotation"))),
            .upsert(.service(F.service("by-export", annotations: [:]))),
            .upsert(.serviceExport(F.export("by-export"))),
            .upsert(.service(F.service("by-namespace", namespace: "public", annotations: [:]))),
            .upsert(.service(F.service("hidden", annotations: [:]))),
            .upsert(.serviceExport(F.export("no-service"))),
            .synced
        )
        let state = await harness.sink.wait { $0.records.count >= 3 }
        #expect(
            state.map { Set($0.records.keys) } == [
                ServiceKey(namespace: "shop", name: "by-annotation"),
                ServiceKey(namespace: "shop", name: "by-export"),
                ServiceKey(namespace: "public", name: "by-namespace"),
            ]
        )

        // Withdrawing the ServiceExport withdraws the record; exporting `hidden` by annotation publishes it.
        // The two events may be published in one batch or two, so every batch since then is looked at.
        let batchesBefore = state?.batches.count ?? 0
        east.send(
            .delete(KubeObjectRef(kind: .serviceExport, namespace: "shop", name: "by-export")),
            .upsert(.service(F.service("hidden")))
        )
        let after = await harness.sink.wait {
            $0.records[ServiceKey(namespace: "shop", name: "by-export")] == nil
                && $0.records[ServiceKey(namespace: "shop", name: "hidden")] != nil
        }
        #expect(
            after.map { $0.batches[batchesBefore...].flatMap(\.removed) } == [ServiceKey(namespace: "shop", name: "by-export")]
        )
        await harness.stop()
    }

    @Test func relistRemovesWhatWasDeletedWhileDisconnected() async throws {
        let east = ScriptedSource("east-1")
        let harness = try ControllerHarness(
            configuration: configuration([.scripted("east-1", region: "r", zones: ["z"])]),
            sources: [east],
            clock: ManualClock()
        )
        defer { harness.task.cancel() }

        east.send(.upsert(.service(F.service("a"))), .upsert(.service(F.service("b"))), .synced)
        _ = await harness.sink.wait { $0.records.count == 2 }
        east.send(
            .linkLost(reason: "watch closed"),
            .replace(.service, [.service(F.service("b")), .service(F.service("c"))]),
            .synced
        )
        let after = await harness.sink.wait {
            $0.records.count == 2 && $0.records[ServiceKey(namespace: "shop", name: "c")] != nil
        }
        #expect(after.map { Set($0.records.keys.map(\.name)) } == ["b", "c"])
        await harness.stop()
    }

    @Test func aMembersLocalityFromItsNodesIsReportedBeforeItsFirstSync() async throws {
        let east = ScriptedSource("east-1")
        let harness = try ControllerHarness(
            configuration: configuration([.scripted("east-1")]),
            sources: [east],
            clock: ManualClock()
        )
        defer { harness.task.cancel() }

        // Nodes listed, services still being read: the locality is known, the member is not synced, no records.
        east.send(
            .upsert(.node(KubeNode(name: "n1", region: "us-east-1", zone: "us-east-1a"))),
            .upsert(.service(F.service()))
        )
        let early = await harness.sink.wait { $0.cluster("east-1")?.locality.region == "us-east-1" }
        #expect(early?.cluster("east-1")?.locality == Locality(region: "us-east-1", zone: "us-east-1a"))
        #expect(early?.cluster("east-1")?.link != .synced)
        #expect(early?.records.isEmpty == true)

        // The sync then changes the link only (what lets the answer table recompile just this member's services).
        east.send(.synced)
        let synced = await harness.sink.wait { $0.cluster("east-1")?.link == .synced }
        #expect(synced?.cluster("east-1")?.locality == Locality(region: "us-east-1", zone: "us-east-1a"))
        #expect(synced?.records[Self.web]?.dns("east-1")?.region == "us-east-1")
        await harness.stop()
    }

    @Test func memberWithoutTopologyIsUnknownAndLeavesOthersAlone() async throws {
        let east = ScriptedSource("east-1")
        let lost = ScriptedSource("lost-1")
        let harness = try ControllerHarness(
            configuration: configuration([.scripted("east-1"), .scripted("lost-1")]),
            sources: [east, lost],
            clock: ManualClock()
        )
        defer { harness.task.cancel() }

        east.send(
            .upsert(.node(KubeNode(name: "n1", region: "us-east-1", zone: "us-east-1a"))),
            .upsert(.service(F.service())),
            .synced
        )
        lost.send(
            .upsert(.node(KubeNode(name: "n9"))),
            .upsert(.service(F.service())),
            .upsert(.service(F.service("only-lost"))),
            .synced
        )
        let state = await harness.sink.wait {
            $0.records[Self.web]?.status.dns.count == 2 && $0.cluster("lost-1")?.link == .synced
                && $0.cluster("east-1")?.link == .synced
        }
        #expect(state?.cluster("east-1")?.locality == Locality(region: "us-east-1", zone: "us-east-1a"))
        #expect(state?.cluster("lost-1")?.locality == Locality(region: "unknown", zone: "unknown"))
        #expect(state?.records[Self.web]?.dns("east-1")?.region == "us-east-1")
        #expect(state?.records[Self.web]?.condition("Degraded")?.reason == "UnknownTopology")
        #expect(state?.records[ServiceKey(namespace: "shop", name: "only-lost")] != nil)

        // Labelling the node fixes the locality and the records.
        lost.send(.upsert(.node(KubeNode(name: "n9", region: "eu-west-1", zone: "eu-west-1a"))))
        let fixed = await harness.sink.wait { $0.cluster("lost-1")?.locality.region == "eu-west-1" }
        #expect(fixed?.records[Self.web]?.dns("lost-1")?.zones == ["eu-west-1a"])
        #expect(fixed?.records[Self.web]?.condition("Degraded") == nil)
        await harness.stop()
    }

    @Test func sourcesMustMatchMembers() {
        let sink = RecordingSink()
        #expect(throws: ControllerError.self) {
            try ClusterController(
                configuration: configuration([.scripted("east-1")]),
                sources: [ScriptedSource("west-1")],
                sink: sink,
                logger: F.logger,
                clock: ManualClock()
            )
        }
    }

    @Test func unsupportedSourcesSaySo() {
        let configuration = ControllerConfiguration(members: [MemberConfiguration(name: "east-1", source: .tunnel)])
        #expect(throws: ControllerError.sourceNotSupported(cluster: "east-1", source: "tunnel")) {
            try ClusterController(configuration: configuration, sink: RecordingSink(), logger: F.logger)
        }
    }

    @Test func unusableKubeconfigNamesClusterAndFile() {
        let configuration = ControllerConfiguration(members: [
            MemberConfiguration(name: "east-1", source: .kubeconfig(path: "/nonexistent/east.kubeconfig", context: "east"))
        ])
        #expect(
            throws: ControllerError.invalidConfiguration("cluster \"east-1\": /nonexistent/east.kubeconfig: cannot read the file")
        ) {
            try ClusterController(configuration: configuration, sink: RecordingSink(), logger: F.logger)
        }
    }
}
