import KubeClient
import ServiceLifecycle

/// Closes the host cluster's HTTP client once everything that uses it has stopped: it is the first of the host
/// services, so the group shuts it down last (async-http-client traps if a client is dropped unclosed).
struct HostConnectorCloser: Service {
    let connector: HTTPKubeConnector

    func run() async throws {
        // Waits for graceful shutdown (or cancellation); the sleep is never meant to end on its own.
        try? await cancelWhenGracefulShutdown {
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        await connector.shutdown()
    }
}
