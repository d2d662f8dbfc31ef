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

    let fd: Int32

    init(_ kind: Kind, port: Int, timeout: Int = 5) throws {
        let type = kind == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
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

    deinit { close(fd) }

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

    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }
}
