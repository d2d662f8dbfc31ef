import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy to the host's tunnel listener, one thread per direction, whose `cut()` ends every open
/// connection at once (both ends shut down, then closed with SO_LINGER 0) while it keeps accepting new ones.
final class CutProxy: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let upstreamPort: UInt16
    private let lock = NSLock()
    private var open: [Int32] = []
    private var acceptedCount = 0

    var accepted: Int { lock.withLock { acceptedCount } }

    init(upstreamPort: UInt16) throws {
        self.upstreamPort = upstreamPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        listener = fd
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = Self.loopback(0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            throw NSError(domain: "bench", code: 2, userInfo: [NSLocalizedDescriptionKey: "proxy: cannot listen"])
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    static func loopback(_ port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    /// Ends every connection open now. Under the lock: a pair closes its descriptors only after leaving `open`.
    func cut() {
        lock.withLock {
            for fd in open {
                var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
                setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
                shutdown(fd, Int32(SHUT_RDWR))
            }
        }
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { continue }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            if connected != 0 {
                close(client)
                close(upstream)
                continue
            }
            lock.withLock {
                open += [client, upstream]
                acceptedCount += 1
            }
            // Each pump closes its write side's peer when its read side ends; the later of the two closes both.
            let done = ConnectionPair(client, upstream) { [self] in
                // Forgotten before they close, so a later cut never shuts a reused descriptor number.
                lock.withLock { open.removeAll { $0 == client || $0 == upstream } }
            }
            Thread.detachNewThread { Self.pump(from: client, to: upstream); done.finish() }
            Thread.detachNewThread { Self.pump(from: upstream, to: client); done.finish() }
        }
    }

    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            // A signal (SIGCHLD of a child process, say) interrupts a blocked call: that is no end of stream.
            if count < 0, errno == EINTR { continue }
            if count <= 0 { break }
            var sent = 0
            while sent < count {
                let written = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                if written < 0, errno == EINTR { continue }
                if written <= 0 { shutdown(source, Int32(SHUT_RDWR)); return }
                sent += written
            }
        }
        shutdown(destination, Int32(SHUT_RDWR))
    }
}

/// Closes both sockets once both directions have ended.
private final class ConnectionPair: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining = 2
    private let sockets: (Int32, Int32)
    private let forget: @Sendable () -> Void

    init(_ first: Int32, _ second: Int32, forget: @escaping @Sendable () -> Void) {
        sockets = (first, second)
        self.forget = forget
    }

    func finish() {
        let last = lock.withLock { () -> Bool in
            remaining -= 1
            return remaining == 0
        }
        if last {
            forget()
            close(sockets.0)
            close(sockets.1)
        }
    }
}
