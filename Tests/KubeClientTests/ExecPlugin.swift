import DNSTestSupport
import Foundation
import KubeClient

/// A real exec credential plugin (a shell script) whose n-th run prints the n-th prepared ExecCredential.
struct ExecPlugin {
    let directory: String
    let config: KubeExecConfig

    init(tokens: [String], failWith: String? = nil) throws {
        try self.init(outputs: tokens.map { ["token": $0] }, failWith: failWith)
    }

    init(certificate: String, key: String, expiry: Date) throws {
        try self.init(outputs: [[
            "clientCertificateData": certificate, "clientKeyData": key,
            "expirationTimestamp": expiry.formatted(.iso8601),
        ]], failWith: nil)
    }

    private init(outputs: [[String: String]], failWith: String?) throws {
        directory = NSTemporaryDirectory() + "exec-plugin-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for (index, status) in outputs.enumerated() {
            let credential: [String: Any] = [
                "apiVersion": "client.authentication.k8s.io/v1beta1", "kind": "ExecCredential", "status": status,
            ]
            try JSONSerialization.data(withJSONObject: credential).write(to: URL(fileURLWithPath: "\(directory)/out-\(index + 1).json"))
        }
        let failure = failWith.map { "echo '\($0)' >&2; exit 1" } ?? ""
        let script = """
            #!/bin/sh
            \(failure)
            dir="\(directory)"
            n=$(cat "$dir/count" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$dir/count"
            # The plugin protocol: the request arrives in KUBERNETES_EXEC_INFO.
            case "$KUBERNETES_EXEC_INFO" in *ExecCredential*) ;; *) echo "no exec info" >&2; exit 2;; esac
            if [ -f "$dir/out-$n.json" ]; then cat "$dir/out-$n.json"; else cat "$dir/out-\(outputs.count).json"; fi
            """
        let path = directory + "/plugin.sh"
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: path)
        config = KubeExecConfig(apiVersion: "client.authentication.k8s.io/v1beta1", command: path)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}

/// A CA, a server certificate (for 127.0.0.1 and localhost unless told otherwise) and a client certificate
/// (CN mcdns-member), made with openssl.
struct TestPKI {
    let directory: String
    var caPath: String { directory + "/ca.pem" }
    var serverCertificatePath: String { directory + "/server.pem" }
    var serverKeyPath: String { directory + "/server-key.pem" }
    let ca: String
    let clientCertificate: String
    let clientKey: String

    init(serverNames: String = "IP:127.0.0.1,DNS:localhost") throws {
        directory = NSTemporaryDirectory() + "pki-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let openssl = try ProcessRunner.locate("openssl", package: "openssl")
        let dir = directory
        func run(_ arguments: [String]) throws {
            let result = try ProcessRunner.run(openssl, arguments, timeout: .seconds(30), currentDirectory: dir)
            guard result.status == 0 else {
                throw TestSupportError.system("openssl \(arguments.joined(separator: " ")): \(result.stderr)")
            }
        }
        try run(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
                 "-subj", "/CN=test-ca", "-keyout", "ca-key.pem", "-out", "ca.pem"])
        try "subjectAltName=\(serverNames)\n".write(toFile: dir + "/san.ext", atomically: true, encoding: .utf8)
        for (name, subject, ext) in [("server", "/CN=mcdns-test-server", true), ("client", "/CN=mcdns-member", false)] {
            try run(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", subject,
                     "-keyout", "\(name)-key.pem", "-out", "\(name).csr"])
            try run(["x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca-key.pem", "-CAcreateserial",
                     "-days", "2", "-out", "\(name).pem"] + (ext ? ["-extfile", "san.ext"] : []))
        }
        ca = try String(contentsOfFile: dir + "/ca.pem", encoding: .utf8)
        clientCertificate = try String(contentsOfFile: dir + "/client.pem", encoding: .utf8)
        clientKey = try String(contentsOfFile: dir + "/client-key.pem", encoding: .utf8)
    }

    func remove() { try? FileManager.default.removeItem(atPath: directory) }
}
