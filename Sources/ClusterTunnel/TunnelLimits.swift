public import NIOCore

/// Timers and bounds of one tunnel connection, shared by the host and the agent so both ends agree on them.
///
/// The defaults suit a real deployment; tests shrink the timers so that a black-holed link is noticed in a second.
public struct TunnelLimits: Sendable {
    /// Streams (API requests) open at once on one tunnel; the agent advertises it as
    /// SETTINGS_MAX_CONCURRENT_STREAMS and the host refuses a request beyond it rather than queueing it.
    public var maxConcurrentStreams: Int = 100
    /// Largest header list either end accepts (SETTINGS_MAX_HEADER_LIST_SIZE), and the largest upgrade request head.
    public var maxHeaderListSize: Int = 16_384
    /// Connections the host holds at once before they are authenticated and upgraded; more are closed at accept
    /// (`tooManyPending`). Each costs a TLS handshake, so this bounds what unauthenticated peers can take.
    public var maxPendingConnections: Int = 64
    /// From TCP accept (or connect) to a completed WebSocket upgrade: TLS and HTTP/1.1 together.
    public var handshakeTimeout: TimeAmount = .seconds(10)
    /// From sending a request to receiving its response head. A watch answers its head at once, so this bounds
    /// a member whose API server hangs, not a quiet watch.
    public var timeToFirstByte: TimeAmount = .seconds(30)
    /// How often each end sends an HTTP/2 PING.
    public var pingInterval: TimeAmount = .seconds(10)
    /// How long a PING may stay unanswered before the connection is declared dead and closed.
    public var pingTimeout: TimeAmount = .seconds(10)
    /// WebSocket pings keep middleboxes (load balancers, NAT) from idling the connection out. DESIGN §6 wants them
    /// under 25 s; larger values are clamped.
    public var webSocketPingInterval: TimeAmount = .seconds(20)
    /// Largest WebSocket frame accepted; outbound bytes are cut into frames no larger than this.
    public var maxWebSocketFrameSize: Int = 1 << 20

    public init() {}

    /// The WebSocket ping interval as used: at most 25 s.
    var effectiveWebSocketPingInterval: TimeAmount {
        min(webSocketPingInterval, .seconds(25))
    }
}
