import DNSTestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Ports for the daemon tests: `DNSTestSupport.FreePort` picks one free for UDP and TCP below the ephemeral
/// range; another process can take it before mcdns binds it, so callers retry on "address in use".
enum FreePort {
    struct Failed: Error {}

    static func pick() throws -> Int {
        Int(try DNSTestSupport.FreePort.loopback())
    }

    /// A listening TCP socket on a free loopback port, kept open until the caller closes the descriptor: a port
    /// that is certainly taken.
    static func holdTCP() throws -> (descriptor: Int32, port: Int) {
        let tcp = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard let port = bind(tcp, port: 0), listen(tcp, 1) == 0 else {
            close(tcp)
            throw Failed()
        }
        return (tcp, port)
    }

    /// Binds `fd` to 127.0.0.1:`port` and returns the bound port, or nil.
    private static func bind(_ fd: Int32, port: Int) -> Int? {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { return nil }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { return nil }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
