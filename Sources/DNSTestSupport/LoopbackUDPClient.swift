import Glibc

/// Sends one raw datagram to a loopback DNS server and waits a bounded time for one reply.
public enum LoopbackUDPClient {
    /// Returns the reply, or nil when none arrived within `timeout` (what "the server sends nothing" looks like).
    public static func exchange(
        _ packet: [UInt8],
        port: UInt16,
        timeout: Duration = .seconds(2)
    )
        throws(TestSupportError) -> [UInt8]?
    {
        let socket = try LoopbackSocket(type: Int32(SOCK_DGRAM.rawValue))
        _ = try socket.bind(port: 0)
        var address = sockaddr_in.loopback(port: port)
        let sent = packet.withUnsafeBytes { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket.fd, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        guard sent == packet.count else { throw .system("sendto 127.0.0.1:\(port) failed: errno \(errno)") }
        guard try socket.waitReadable(timeout: timeout) else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65535)
        let received = buffer.withUnsafeMutableBytes { recv(socket.fd, $0.baseAddress, $0.count, 0) }
        // ECONNREFUSED: the port is closed (ICMP unreachable), which for a test means "no answer".
        guard received >= 0 else { return nil }
        return Array(buffer[0..<received])
    }
}

extension LoopbackSocket {
    /// Waits until the socket has data (or EOF) to read; false on timeout.
    func waitReadable(timeout: Duration) throws(TestSupportError) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000
        )
        while true {
            let ready = poll(&descriptor, 1, milliseconds)
            if ready < 0 && errno == EINTR { continue }
            guard ready >= 0 else { throw .system("poll failed: errno \(errno)") }
            return ready > 0
        }
    }
}
