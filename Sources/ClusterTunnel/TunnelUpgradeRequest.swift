import NIOHTTP1

/// What the host requires of an upgrade request's head beyond NIO's upgrader, checked before the credential.
enum TunnelUpgradeRequest {
    /// Whether the request says a body follows its head: any `Transfer-Encoding`, or a `Content-Length` other
    /// than 0 (RFC 9112 §6.3). A WebSocket handshake has none (RFC 6455 §4.1), and NIO's upgrader waits for the
    /// request's end before it upgrades: an accepted request whose body never came kept its connection until the
    /// handshake timeout, and its upgrade handler in a reference cycle with the upgrader after that (found by
    /// TunnelFuzz). Such a request is refused with 400 at its head.
    static func promisesBody(_ head: HTTPRequestHead) -> Bool {
        if !head.headers["transfer-encoding"].isEmpty { return true }
        // A value that is not a number counts as a body: refused rather than guessed at.
        return head.headers["content-length"].contains { Int($0) != 0 }
    }
}
