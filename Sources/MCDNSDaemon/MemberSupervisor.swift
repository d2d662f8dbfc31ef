import ClusterController
import Logging
import MCDNSModel
import RecordStore
import ServiceLifecycle
import Synchronization

/// Runs the cluster controller, and replaces it when a reload changes the members: the old controller is
/// cancelled, the store is told to expect a resync (records stay, as in a warm start, until each member has
/// synced again or `staleGracePeriod` has passed), and a new controller starts.
final class MemberSupervisor: Service, Sendable {
    private let store: RecordStore
    private let logger: Logger
    private let current: Mutex<ClusterController<ContinuousClock>?>
    private let replacements: AsyncStream<ClusterController<ContinuousClock>>
    private let replace: AsyncStream<ClusterController<ContinuousClock>>.Continuation
    /// Which members are drained; every controller gets it before it runs, and again on every change.
    let drains: DrainRegistry

    init(controller: ClusterController<ContinuousClock>, store: RecordStore, drains: DrainRegistry,
         logger: Logger) {
        self.store = store
        self.logger = logger
        self.drains = drains
        controller.setDrains(drains.effective)
        self.current = Mutex(controller)
        (replacements, replace) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// The members as the running controller sees them.
    func status() -> [MemberStatus] {
        current.withLock { $0 }?.status() ?? []
    }

    var configuration: ControllerConfiguration? { current.withLock { $0 }?.configuration }

    /// Swaps in a controller for a new member list.
    func replace(with controller: ClusterController<ContinuousClock>) {
        replace.yield(controller)
    }

    /// Hands the registry's drains to the running controller (after `mcdns drain`, `undrain` or a reload).
    func applyDrains() {
        current.withLock { $0 }?.setDrains(drains.effective)
    }

    func run() async throws {
        guard let first = current.withLock({ $0 }) else { return }
        // One controller runs at a time; a replacement cancels it and waits for it to finish first, so two
        // controllers never publish into the store together.
        let running = await cancelWhenGracefulShutdown { () async -> Task<Void, Never> in
            var running = Task<Void, Never> { try? await first.run() }
            for await next in self.replacements {
                running.cancel()
                await running.value
                self.store.expectResync(within: next.configuration.staleGracePeriod)
                next.setDrains(self.drains.effective)
                self.current.withLock { $0 = next }
                running = Task<Void, Never> { try? await next.run() }
                self.logger.info(
                    "members replaced",
                    metadata: [
                        "members": "\(next.configuration.members.map(\.name.rawValue).joined(separator: ","))"
                    ]
                )
            }
            return running
        }
        running.cancel()
        await running.value
    }
}
