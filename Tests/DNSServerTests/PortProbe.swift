import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Checks that a server let go of a port: a plain socket (no SO_REUSEPORT) binds only if no socket holds it.
enum PortProbe {
    /// Whether the port becomes free within `timeout`.
    ///
    /// Polled rather than checked once: while other tests run in parallel, a child process they spawn (`dig`)
    /// holds a copy of every descriptor of this process from its clone until its exec, so a socket the server
    /// has closed can stay bound for those few milliseconds.
    static func becomesFree(_ kind: TestSocket.Kind, port: Int, within timeout: Duration = .seconds(5)) throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if try canBind(kind, port: port) { return true }
            if clock.now >= deadline { return false }
            usleep(10_000)
        }
    }

    static func canBind(_ kind: TestSocket.Kind, port: Int) throws -> Bool {
        let type = kind == .udp ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw TestSocket.Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        if kind == .tcp {
            // Connections closed by the server may linger in TIME_WAIT; they do not hold the listening port.
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if kind == .tcp, result == 0 {
            return listen(fd, 1) == 0
        }
        return result == 0
    }
}

/// A TCP listening socket on 127.0.0.1 that occupies a port for as long as it lives.
final class PortHolder {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 1) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else {
            close(fd)
            throw TestSocket.Failure(description: "cannot hold a TCP port: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(fd) }
}
