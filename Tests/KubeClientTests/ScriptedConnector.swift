import KubeClient
import NIOCore
import Synchronization

/// A fake at the connector seam: answers lists from a fixed body and watches from scripted chunks, then keeps
/// the watch open (as a quiet server would) until the reader goes away. For stream shapes no real server sends
/// on purpose (odd event orders, broken JSON); everything else runs against `KubeAPISimulator`.
final class ScriptedConnector: KubeConnector {
    let listBody: String
    private let watches: Mutex<[[String]]>
    let requests = Mutex<[String]>([])

    init(listBody: String, watches: [[String]]) {
        self.listBody = listBody
        self.watches = Mutex(watches)
    }

    func execute(_ request: KubeRequest) async throws -> KubeResponse {
        requests.withLock { $0.append(request.path) }
        if request.path == "/api/v1/namespaces/kube-system" {
            return KubeResponse(status: 200, headers: [], body: AsyncThrowingStream { continuation in
                continuation.yield(ByteBuffer(string: #"{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"kube-system","uid":"scripted"}}"#))
                continuation.finish()
            })
        }
        if request.path.hasSuffix("?limit=1") {
            // The server's current version, asked before a watch resumes: past every scripted event.
            return KubeResponse(status: 200, headers: [], body: AsyncThrowingStream { continuation in
                continuation.yield(ByteBuffer(string: #"{"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"1000000"},"items":[]}"#))
                continuation.finish()
            })
        }
        if !request.path.contains("watch=1") {
            return KubeResponse(status: 200, headers: [], body: AsyncThrowingStream { continuation in
                continuation.yield(ByteBuffer(string: listBody))
                continuation.finish()
            })
        }
        let chunks = watches.withLock { $0.isEmpty ? [] : $0.removeFirst() }
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        for chunk in chunks { continuation.yield(ByteBuffer(string: chunk)) }
        // Left open: the reflector reads until cancelled (or its silence bound, long here).
        return KubeResponse(status: 200, headers: [], body: stream)
    }
}
