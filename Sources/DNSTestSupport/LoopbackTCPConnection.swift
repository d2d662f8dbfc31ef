import Glibc

/// A raw TCP connection to a loopback DNS server, for tests that control every byte and every pause.
public final class LoopbackTCPConnection {
    /// What one read saw.
    public enum ReadResult: Equatable, Sendable {
        case data([UInt8])
        /// The server closed the connection (EOF or reset).
        case closed
        case timedOut
    }

    private let socket: LoopbackSocket
    /// Bytes read but not yet returned as a message: one read can carry several pipelined responses.
    private var pending: [UInt8] = []

    public init(port: UInt16) throws(TestSupportError) {
        socket = try LoopbackSocket(type: Int32(SOCK_STREAM.rawValue))
        var address = sockaddr_in.loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket.fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else { throw .system("connect 127.0.0.1:\(port) failed: errno \(errno)") }
    }

    public func send(_ bytes: [UInt8]) throws(TestSupportError) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes {
                Glibc.send(socket.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else { throw .system("send failed: errno \(errno)") }
            offset += sent
        }
    }

    /// Reads whatever arrives next, waiting at most `timeout`. Bytes kept back by `readMessage` come first.
    public func read(timeout: Duration) throws(TestSupportError) -> ReadResult {
        if !pending.isEmpty {
            defer { pending.removeAll() }
            return .data(pending)
        }
        return try receive(timeout: timeout)
    }

    private func receive(timeout: Duration) throws(TestSupportError) -> ReadResult {
        guard try socket.waitReadable(timeout: timeout) else { return .timedOut }
        var buffer = [UInt8](repeating: 0, count: 65537)
        let received = buffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
        if received <= 0 { return .closed }
        return .data(Array(buffer[0..<received]))
    }

    /// Reads one length-prefixed DNS message; nil when the connection closed or nothing complete came in time.
    /// Bytes after the message stay for the next call.
    public func readMessage(timeout: Duration) throws(TestSupportError) -> [UInt8]? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if pending.count >= 2 {
                let length = Int(pending[0]) << 8 | Int(pending[1])
                if pending.count >= 2 + length {
                    let message = Array(pending[2..<(2 + length)])
                    pending.removeFirst(2 + length)
                    return message
                }
            }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            switch try receive(timeout: remaining) {
            case .data(let bytes): pending += bytes
            case .closed, .timedOut: return nil
            }
        }
    }

    /// Waits until the server closes the connection, discarding any data; false when it is still open at the deadline.
    public func waitForClose(timeout: Duration) throws(TestSupportError) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return false }
            switch try read(timeout: remaining) {
            case .closed: return true
            case .timedOut: return false
            case .data: continue
            }
        }
    }
}
