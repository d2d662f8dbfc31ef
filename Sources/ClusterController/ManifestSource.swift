public import Logging
public import MCDNSModel
public import KubeClient

/// A member described by a directory of Kubernetes YAML (Service, EndpointSlice, ServiceExport, Node; other kinds
/// are ignored), polled for changes.
///
/// The directory stands in for the member's API server: while it is readable the link is synced; when it
/// disappears (or becomes unreadable) the link is lost, so its data turns stale and then offline like a
/// disconnected cluster's; when it is back, the files are re-read and the link is synced again.
public struct ManifestSource: MemberSource {
    public let cluster: ClusterID
    public let directory: String
    public let pollInterval: Duration
    private let logger: Logger

    public init(cluster: ClusterID, directory: String, pollInterval: Duration = .milliseconds(200), logger: Logger) {
        self.cluster = cluster
        self.directory = directory
        self.pollInterval = pollInterval
        var logger = logger
        logger[metadataKey: "cluster.id"] = "\(cluster)"
        self.logger = logger
    }

    public func run(events: MemberEventSink) async throws {
        var state = ManifestDirectory(root: directory)
        var linked = false
        var reportedMissing = false
        while !Task.isCancelled {
            do {
                let result = try state.poll()
                for note in result.ignored {
                    logger.debug("ignoring an object of a kind mcdns does not read", metadata: ["object": "\(note)"])
                }
                // Problems (broken files) travel as events; the controller logs them with the member's metadata.
                for event in result.events { events.send(event) }
                if !linked {
                    linked = true
                    reportedMissing = false
                    logger.info(
                        "manifest directory read",
                        metadata: [
                            "path": "\(directory)", "objects": "\(state.emitted.count)",
                        ]
                    )
                    events.send(.synced)
                }
            } catch {
                let reason = "manifest directory \(directory) is missing or not a directory"
                if !reportedMissing {
                    // Once per outage: the member stays offline (never read) or turns stale (it was read).
                    logger.info("\(reason)")
                    reportedMissing = true
                }
                if linked {
                    linked = false
                    events.send(.linkLost(reason: reason))
                }
            }
            try await Task.sleep(for: pollInterval)
        }
    }

    /// Reads a directory once, as `mcdns check` does: the objects, and every file that does not parse.
    public static func check(directory: String) -> (objects: [KubeObject], errors: [ManifestError]) {
        ManifestDirectory.load(directory)
    }
}
