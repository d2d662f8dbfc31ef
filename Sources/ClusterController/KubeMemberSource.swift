public import KubeClient
public import Logging
public import MCDNSModel
import Synchronization

/// A member read from its API server: one `Reflector` per kind (Services, EndpointSlices, ServiceExports,
/// Nodes) over one `KubeConnector` (direct HTTPS now, the reverse tunnel later), turned into `MemberEvent`s.
///
/// `replace` after each (re)list, `upsert`/`delete` from the watches, `synced` once every kind has listed (and
/// again after an outage that needed a relist), `linkLost` when any watch is down, `linkRegained` when all run
/// again without a relist. ServiceExports answering 404 (the MCS CRD is not installed) count as an empty set.
public struct KubeMemberSource: MemberSource {
    public let cluster: ClusterID
    public let kinds: [KubeObjectKind]
    /// One reflector per kind, in `kinds` order; their statistics are what tests and diagnostics read.
    public let reflectors: [Reflector]
    private let onStop: @Sendable () async -> Void

    /// A source over an existing connector; `onStop` runs when `run` ends (the owner closes the connector).
    public init(
        cluster: ClusterID,
        connector: any KubeConnector,
        kinds: [KubeObjectKind] = KubeObjectKind.memberKinds,
        configuration: ReflectorConfiguration = ReflectorConfiguration(),
        limiter: ListLimiter? = nil,
        logger: Logger,
        onStop: @escaping @Sendable () async -> Void = {}
    ) {
        self.cluster = cluster
        self.kinds = kinds
        self.reflectors = kinds.map {
            Reflector(kind: $0, connector: connector, configuration: configuration, limiter: limiter,
                      cluster: cluster.rawValue, logger: logger)
        }
        self.onStop = onStop
    }

    /// A source that dials the API server directly with async-http-client; the HTTP client is closed when
    /// `run` ends.
    public static func direct(
        cluster: ClusterID,
        client: KubeClientConfiguration,
        configuration: ReflectorConfiguration = ReflectorConfiguration(),
        limiter: ListLimiter? = nil,
        logger: Logger
    ) throws(KubeClientError) -> KubeMemberSource {
        var logger = logger
        logger[metadataKey: "cluster.id"] = "\(cluster)"
        let connector = try HTTPKubeConnector(configuration: client, logger: logger)
        return KubeMemberSource(cluster: cluster, connector: connector, configuration: configuration,
                                limiter: limiter, logger: logger, onStop: { await connector.shutdown() })
    }

    public func run(events: MemberEventSink) async throws {
        let link = LinkTracker(LinkState(kinds: Set(kinds)))
        do {
            try await withThrowingDiscardingTaskGroup { group in
                for reflector in reflectors {
                    let kind = reflector.kind
                    group.addTask {
                        try await reflector.run { event in
                            link.handle(event, kind: kind, events: events)
                        }
                    }
                }
            }
        } catch {
            await onStop()
            throw error
        }
        await onStop()
    }

    /// The link state shared by the reflectors' tasks.
    final class LinkTracker: Sendable {
        private let state: Mutex<LinkState>

        init(_ state: LinkState) {
            self.state = Mutex(state)
        }

        func handle(_ event: ReflectorEvent, kind: KubeObjectKind, events: MemberEventSink) {
            state.withLock { $0.handle(event, kind: kind, events: events) }
        }
    }

    /// The member's link as the union of its watches. Events are sent while the lock is held, so the order
    /// of `replace`/`synced`/`linkLost` across kinds is the order the decisions were made in.
    struct LinkState {
        let kinds: Set<KubeObjectKind>
        var listed: Set<KubeObjectKind> = []
        var down: Set<KubeObjectKind> = []
        var initialSynced = false
        var memberDown = false
        var relistedWhileDown = false

        init(kinds: Set<KubeObjectKind>) {
            self.kinds = kinds
        }

        mutating func handle(_ event: ReflectorEvent, kind: KubeObjectKind, events: MemberEventSink) {
            switch event {
            case .upsert(let object):
                events.send(.upsert(object))
            case .delete(let ref):
                events.send(.delete(ref))
            case .replace(let objects):
                events.send(.replace(kind, objects))
                listed.insert(kind)
                down.remove(kind)
                if !initialSynced {
                    if listed == kinds {
                        initialSynced = true
                        events.send(.synced)
                    }
                } else if memberDown {
                    relistedWhileDown = true
                    regainIfAllUp(events)
                }
            case .down(let reason):
                down.insert(kind)
                if initialSynced && !memberDown {
                    memberDown = true
                    events.send(.linkLost(reason: "\(kind.resource): \(reason)"))
                }
            case .resumed:
                down.remove(kind)
                regainIfAllUp(events)
            }
        }

        private mutating func regainIfAllUp(_ events: MemberEventSink) {
            guard memberDown, down.isEmpty else { return }
            memberDown = false
            // After a relist the data is current again (`synced`); otherwise nothing was missed (`linkRegained`).
            events.send(relistedWhileDown ? .synced : .linkRegained)
            relistedWhileDown = false
        }
    }
}
