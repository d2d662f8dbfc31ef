public import DNSServer

extension Configuration {
    /// An IP literal and a port to bind (`127.0.0.1:5300`, `[::1]:5300`, `0.0.0.0:8443`), for DNS, the admin API
    /// and the tunnel alike: the DNS server's one type, parsed once when the configuration is read.
    public typealias ListenAddress = DNSServer.ListenAddress
}
