public import NIOCore

/// The answer to one request through the tunnel: status and headers at once, the body as it arrives.
///
/// Both ends use it: the host receives it from `TunnelSession.request`, the agent receives it from its
/// `TunnelUpstream`. A watch is one long body.
public struct TunnelResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    /// Chunks in arrival order; ends when the far end ends the body, throws when the stream or tunnel breaks.
    /// Dropping or cancelling the reader resets the stream.
    public var body: AsyncThrowingStream<ByteBuffer, any Error>

    public init(status: Int, headers: [(String, String)], body: AsyncThrowingStream<ByteBuffer, any Error>) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first value of a header, matched case-insensitively.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.0.lowercased() == wanted }?.1
    }
}
