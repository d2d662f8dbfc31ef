import Foundation

/// Runs a client-go exec credential plugin and reads its `ExecCredential` answer.
enum ExecCredentialPlugin {
    struct Credential: Sendable {
        var token: String?
        var clientCertificatePEM: [UInt8]?
        var clientKeyPEM: [UInt8]?
        /// nil: valid until the server rejects it (client-go caches it until a 401).
        var expiration: Date?
    }

    /// One spawn at a time: swift-corelibs-foundation's `Process.run()` is not safe to call concurrently.
    private static let spawnLock = NSLock()

    static func run(_ config: KubeExecConfig, server: String, certificateAuthorityPEM: [UInt8]?,
                    timeout: Duration = .seconds(30)) async throws(KubeClientError) -> Credential {
        var spec: [String: Any] = ["interactive": false]
        if config.provideClusterInfo {
            var cluster: [String: Any] = ["server": server]
            if let ca = certificateAuthorityPEM { cluster["certificate-authority-data"] = Data(ca).base64EncodedString() }
            spec["cluster"] = cluster
        }
        let info: [String: Any] = ["apiVersion": config.apiVersion, "kind": "ExecCredential", "spec": spec]
        let infoJSON = (try? JSONSerialization.data(withJSONObject: info)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"

        let process = Process()
        if config.command.contains("/") {
            process.executableURL = URL(fileURLWithPath: config.command)
            process.arguments = config.args
        } else {
            // A bare name is looked up on PATH, as client-go does.
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [config.command] + config.args
        }
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in config.env { environment[key] = value }
        environment["KUBERNETES_EXEC_INFO"] = infoJSON
        process.environment = environment
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice

        let (out, err, status): (Data, Data, Int32)
        do {
            (out, err, status) = try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    do {
                        spawnLock.lock()
                        defer { spawnLock.unlock() }
                        try process.run()
                    } catch {
                        continuation.resume(throwing: error)
                        return
                    }
                    // A plugin that hangs (waiting for a browser login, say) is killed, so the link can retry.
                    let seconds = Double(timeout.components.seconds)
                    DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
                        if process.isRunning { process.terminate() }
                    }
                    // Both pipes drained while it runs, so a chatty plugin cannot block on a full pipe.
                    let group = DispatchGroup()
                    nonisolated(unsafe) var errData = Data()
                    group.enter()
                    DispatchQueue.global().async {
                        errData = errors.fileHandleForReading.readDataToEndOfFile()
                        group.leave()
                    }
                    let outData = output.fileHandleForReading.readDataToEndOfFile()
                    group.wait()
                    process.waitUntilExit()
                    continuation.resume(returning: (outData, errData, process.terminationStatus))
                }
            }
        } catch {
            throw .credentials("exec plugin \(config.command) could not start: \(error)")
        }
        guard status == 0 else {
            let message = String(decoding: err, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw .credentials("exec plugin \(config.command) exited with status \(status)" + (message.isEmpty ? "" : ": \(message)"))
        }
        guard let object = try? JSONSerialization.jsonObject(with: out) as? [String: Any] else {
            throw .credentials("exec plugin \(config.command) did not print an ExecCredential JSON object")
        }
        if let apiVersion = object["apiVersion"] as? String, apiVersion != config.apiVersion {
            throw .credentials("exec plugin \(config.command) answered \(apiVersion), expected \(config.apiVersion)")
        }
        guard let status = object["status"] as? [String: Any] else {
            throw .credentials("exec plugin \(config.command): ExecCredential has no status")
        }
        var credential = Credential()
        credential.token = status["token"] as? String
        credential.clientCertificatePEM = (status["clientCertificateData"] as? String).map { Array($0.utf8) }
        credential.clientKeyPEM = (status["clientKeyData"] as? String).map { Array($0.utf8) }
        if let expiry = status["expirationTimestamp"] as? String {
            guard let date = try? Date(expiry, strategy: .iso8601) else {
                throw .credentials("exec plugin \(config.command): expirationTimestamp \"\(expiry)\" is not RFC 3339")
            }
            credential.expiration = date
        }
        if credential.token == nil && credential.clientCertificatePEM == nil {
            throw .credentials("exec plugin \(config.command): ExecCredential has neither a token nor a client certificate")
        }
        if (credential.clientCertificatePEM == nil) != (credential.clientKeyPEM == nil) {
            throw .credentials("exec plugin \(config.command): clientCertificateData and clientKeyData must come together")
        }
        return credential
    }
}
