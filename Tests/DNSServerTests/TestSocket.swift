import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain blocking client socket connected to 127.0.0.1: what a DNS client does, with nothing of the server's
/// code in between. Every receive gives up after `timeout` seconds, so a broken server fails the test instead
/// of hanging it.
final class TestSocket: @unchecked Sendable {
    enum Kind { case udp, tcp }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var fd: Int32

    /// `source` binds the client to another loopback address first (127.0.0.2…: every 127/8 address is local);
    /// `receiveBuffer` shrinks the kernel's receive buffer (a client that takes little at a time).
    init(_ kind: Kind, port: Int, timeout: Int = 5, source: String? = nil, receiveBuffer: Int32? = nil) throws {
        let type = kind == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_addr.s_addr = inet_addr(source)
            let bound = withUnsafePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard bound == 0 else {
                let reason = String(cString: strerror(errno))
                close(fd)
                throw Failure(description: "bind to \(source): \(reason)")
            }
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(reason)")
        }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Closes with a reset (SO_LINGER 0), as a client killed with unread data in its buffer does.
    func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close(fd)
        fd = -1
    }

    func send(_ bytes: [UInt8]) throws {
        let sent = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == bytes.count else { throw Failure(description: "send: \(String(cString: strerror(errno)))") }
    }

    /// One datagram, or for TCP whatever has arrived; empty at end of stream. Throws on timeout.
    func receive(max: Int = 65535) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: max)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count >= 0 else {
            if errno == ECONNRESET { return [] }
            throw Failure(description: "recv: \(String(cString: strerror(errno)))")
        }
        return Array(buffer[..<count])
    }

    /// Exactly `count` bytes from a stream, or nil if it ended first.
    func receive(exactly count: Int) throws -> [UInt8]? {
        var bytes: [UInt8] = []
        while bytes.count < count {
            let chunk = try receive(max: count - bytes.count)
            if chunk.isEmpty { return nil }
            bytes += chunk
        }
        return bytes
    }

    /// One length-framed DNS message from a TCP stream, or nil at end of stream.
    func receiveFramed() throws -> [UInt8]? {
        guard let prefix = try receive(exactly: 2) else { return nil }
        return try receive(exactly: Int(prefix[0]) << 8 | Int(prefix[1]))
    }

    /// True once the peer closed (or reset) the stream; throws if it is still open when the timeout passes.
    func waitForClose() throws -> Bool {
        while true {
            let chunk = try receive()
            if chunk.isEmpty { return true }
        }
    }

    /// Ends our sending side (the server sees end of stream and closes).
    func shutdown() {
        _ = Glibc.shutdown(fd, Int32(SHUT_WR))
    }

    /// True once the peer has closed its side (FIN or reset), without reading what is still to be read; false
    /// when it is still open after `milliseconds`.
    func peerClosed(withinMilliseconds milliseconds: Int32) -> Bool {
        // POLLRDHUP (0x2000): the peer shut down its writing half.
        var entry = pollfd(fd: fd, events: Int16(0x2000), revents: 0)
        let ready = poll(&entry, 1, milliseconds)
        return ready > 0 && entry.revents & Int16(0x2000 | Int32(POLLHUP) | Int32(POLLERR)) != 0
    }

    /// This socket's own port.
    var localPort: Int {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits (up to `timeout` seconds) until the server's end of this connection has left ESTABLISHED, as
    /// /proc/net/tcp shows it: the server closed, even when the FIN cannot reach us behind unread data.
    func waitUntilServerCloses(serverPort: Int, timeout: Double = 5) -> Bool {
        let local = String(format: "0100007F:%04X", serverPort)
        let remote = String(format: ":%04X", localPort)
        let end = Date().addingTimeInterval(timeout)
        var seen = false
        while Date() < end {
            let row = Self.procNetTCP().first { fields in
                fields.count > 3 && fields[1] == local && fields[2].hasSuffix(remote)
            }
            if let row {
                seen = true
                if row[3] != "01" { return true }
            } else if seen {
                return true
            }
            usleep(20_000)
        }
        return false
    }

    /// The rows of /proc/net/tcp split into fields. Read with read(2): the file reports size 0, so whole-file
    /// readers that trust the size get nothing.
    private static func procNetTCP() -> [[Substring]] {
        let fd = open("/proc/net/tcp", O_RDONLY)
        guard fd >= 0 else { return [] }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            bytes += chunk[..<count]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map { $0.split(separator: " ") }
    }

    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }
}
