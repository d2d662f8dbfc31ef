import Foundation

/// Certificates made with the `openssl` CLI at test time: a host CA and the host's certificate (for 127.0.0.1), a
/// second CA with a host certificate the agent must not trust, and client certificates per cluster from the
/// client CA and from an unknown CA.
public struct TestCertificates: Sendable {
    public let directory: TemporaryDirectory
    public var path: String { directory.path }

    public var hostCA: String { "\(path)/host-ca.pem" }
    public var hostCert: String { "\(path)/host.pem" }
    public var hostKey: String { "\(path)/host.key" }
    public var otherCA: String { "\(path)/other-ca.pem" }
    public var otherHostCert: String { "\(path)/other-host.pem" }
    public var otherHostKey: String { "\(path)/other-host.key" }
    public var clientCA: String { "\(path)/client-ca.pem" }

    public func clientCert(_ cluster: String, fromOtherCA: Bool = false) -> (cert: String, key: String) {
        let stem = fromOtherCA ? "other-client-\(cluster)" : "client-\(cluster)"
        return ("\(path)/\(stem).pem", "\(path)/\(stem).key")
    }

    public init(clientClusters: [String] = ["east-1"]) throws {
        directory = try TemporaryDirectory(prefix: "mcdns-tunnel-certs")
        let path = directory.path
        func run(_ arguments: [String]) throws { try Self.openssl(arguments, in: path) }
        func ca(_ name: String) throws {
            try run([
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                "\(name).key",
                "-out", "\(name).pem", "-days", "2", "-subj", "/CN=\(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        func leaf(_ name: String, cn: String, ca: String, extensions: String) throws {
            try run([
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(name).key",
                "-out", "\(name).csr", "-subj", "/CN=\(cn)",
            ])
            _ = try directory.write("\(name).ext", extensions)
            try run([
                "x509", "-req", "-in", "\(name).csr", "-CA", "\(ca).pem", "-CAkey", "\(ca).key", "-CAcreateserial",
                "-out", "\(name).pem", "-days", "2", "-extfile", "\(name).ext",
            ])
        }
        let serverExtensions = "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n"
        try ca("host-ca")
        try ca("other-ca")
        try ca("client-ca")
        try leaf("host", cn: "mcdns-host", ca: "host-ca", extensions: serverExtensions)
        try leaf("other-host", cn: "mcdns-host", ca: "other-ca", extensions: serverExtensions)
        for cluster in clientClusters {
            let clientExtensions = "subjectAltName=DNS:\(cluster)\nextendedKeyUsage=clientAuth\n"
            try leaf("client-\(cluster)", cn: cluster, ca: "client-ca", extensions: clientExtensions)
            try leaf("other-client-\(cluster)", cn: cluster, ca: "other-ca", extensions: clientExtensions)
        }
    }

    /// Runs the `openssl` CLI in `directory`; a failure throws with its stderr.
    static func openssl(_ arguments: [String], in directory: String) throws {
        let openssl = try ProcessRunner.locate("openssl", package: "openssl")
        let output = try ProcessRunner.run(openssl, arguments, timeout: .seconds(30), currentDirectory: directory)
        guard output.status == 0 else {
            throw TestSupportError.system("openssl \(arguments.joined(separator: " ")) failed: \(output.stderr)")
        }
    }

    /// A client certificate for `cluster` from the client CA that expired long ago (valid 1–2 January 2020):
    /// everything else about it is right, so a refusal can only be for its dates. `openssl x509 -req` cannot
    /// back-date, so `openssl ca` signs it with explicit start and end dates.
    public func makeExpiredClientCert(_ cluster: String) throws -> (cert: String, key: String) {
        let stem = "expired-client-\(cluster)"
        let ca = "expired-ca-\(cluster)"
        _ = try directory.write("\(ca).index", "")
        _ = try directory.write("\(ca).serial", "1000\n")
        _ = try directory.write(
            "\(ca).cnf",
            """
            [ ca ]
            default_ca = signer
            [ signer ]
            database = \(ca).index
            serial = \(ca).serial
            new_certs_dir = .
            default_md = sha256
            policy = anything
            unique_subject = no
            [ anything ]
            commonName = supplied
            [ client ]
            subjectAltName = DNS:\(cluster)
            extendedKeyUsage = clientAuth

            """
        )
        try Self.openssl(
            [
                "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(stem).key",
                "-out", "\(stem).csr", "-subj", "/CN=\(cluster)",
            ],
            in: path
        )
        try Self.openssl(
            [
                "ca", "-batch", "-config", "\(ca).cnf", "-extensions", "client", "-cert", "client-ca.pem", "-keyfile",
                "client-ca.key", "-in", "\(stem).csr", "-out", "\(stem).pem", "-notext", "-startdate",
                "20200101000000Z",
                "-enddate", "20200102000000Z",
            ],
            in: path
        )
        return ("\(path)/\(stem).pem", "\(path)/\(stem).key")
    }
}
