import NIOSSL

/// The TLS both ends of the tunnel speak (DESIGN §6): TLS 1.2 or newer, and in TLS 1.2 only ECDHE key exchange
/// with AEAD ciphers (forward secrecy: a stolen host key does not decrypt recorded sessions; no CBC). TLS 1.3,
/// whose suites are all forward-secret AEAD, is offered too and wins whenever the peer speaks it. NIOSSL's
/// defaults would also take TLS 1.0/1.1 and RSA key exchange (`AES128-SHA`).
enum TunnelTLS {
    /// The TLS 1.2 suites accepted, ECDSA and RSA certificates alike, strongest first.
    static let tls12CipherSuites = [
        "ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    ].joined(separator: ":")

    static func restrict(_ tls: inout TLSConfiguration) {
        tls.minimumTLSVersion = .tlsv12
        tls.maximumTLSVersion = nil
        tls.cipherSuites = tls12CipherSuites
    }
}
