import ClusterController
import Foundation
import MCDNSModel

/// Runs a controller in a task for the length of a test.
struct ControllerHarness<C: Clock>: Sendable where C.Duration == Duration {
    let sink = RecordingSink()
    let controller: ClusterController<C>
    let task: Task<Void, any Error>

    init(
        configuration: ControllerConfiguration,
        sources: [any MemberSource],
        clock: C,
        wallClock: @escaping @Sendable () -> Double = { 1_700_000_000 }
    ) throws {
        let controller = try ClusterController(
            configuration: configuration,
            sources: sources,
            sink: sink,
            logger: Fixture.logger,
            clock: clock,
            wallClock: wallClock
        )
        self.controller = controller
        task = Task { try await controller.run() }
    }

    func stop() async {
        task.cancel()
        _ = try? await task.value
    }
}

extension MemberConfiguration {
    static func scripted(_ name: ClusterID, region: String? = nil, zones: [String]? = nil) -> MemberConfiguration {
        // The source kind does not matter when the test passes its own sources.
        MemberConfiguration(name: name, region: region, zones: zones, source: .tunnel)
    }
}
