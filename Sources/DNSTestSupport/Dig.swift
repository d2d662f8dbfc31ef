/// Runs `dig` against one server and parses its answer.
///
/// Every query carries options that keep the output comparable between servers and runs bounded: one try with a
/// short timeout, no cookies (Knot and mcdns treat them differently and the test is not about them), no EDNS
/// version negotiation (so `+edns=1` shows BADVERS instead of a silent retry), and `+ignore` (a truncated UDP
/// answer is reported as such instead of being retried over TCP).
public struct Dig: Sendable {
    public static let fixedOptions = ["+nocmd", "+nostats", "+nocookie", "+tries=1", "+noednsneg", "+ignore"]

    public let executable: String
    public var server: String
    public var port: UInt16
    /// dig's own per-try timeout, in whole seconds (dig's smallest unit).
    public var timeoutSeconds: Int
    /// Whether a query that comes back as itself is asked once more (see `query`).
    var retryOnEcho = true

    public init(port: UInt16, server: String = "127.0.0.1", timeoutSeconds: Int = 2) throws(TestSupportError) {
        executable = try ProcessRunner.locate("dig", package: "dnsutils")
        self.server = server
        self.port = port
        self.timeoutSeconds = timeoutSeconds
    }

    /// The command line for one query, for logs and failure messages.
    public func arguments(_ name: String, _ type: String, options: [String] = [], qclass: String = "IN") -> [String] {
        ["@\(server)", "-p", String(port), "-q", name, "-t", type, "-c", qclass, "+timeout=\(timeoutSeconds)"]
            + Dig.fixedOptions + options
    }

    /// Sends one query. Returns nil when no response arrived (dig timed out or the connection failed); throws when
    /// dig printed something that is not a response.
    public func query(
        _ name: String,
        _ type: String,
        options: [String] = [],
        qclass: String = "IN"
    ) throws
        -> ResponseSummary?
    {
        let output = try ProcessRunner.run(
            executable,
            arguments(name, type, options: options, qclass: qclass),
            timeout: .seconds(timeoutSeconds + 5)
        )
        if output.timedOut {
            throw TestSupportError.timeout("dig \(arguments(name, type, options: options).joined(separator: " "))")
        }
        if !output.stdout.contains("->>HEADER<<-") {
            // dig exits 9 when nothing answered; a reset or refused TCP connection is the same for our purposes.
            let text = output.stdout + output.stderr
            if output.status == 9 || text.contains("timed out") || text.contains("connection refused")
                || text.contains("connection reset") || text.contains("end of file")
            {
                return nil
            }
            throw TestSupportError.unparsableOutput("dig exited \(output.status) without a response", output: text)
        }
        let response = try ResponseSummary.parse(digOutput: output.stdout)
        // QR clear: dig got its own query back, not an answer (its socket was given the server's port as its
        // source port, so the query came straight back to it). Ask again, from another port.
        if !response.qr {
            if retryOnEcho { return try retrying().query(name, type, options: options, qclass: qclass) }
            throw TestSupportError.unparsableOutput("dig received its own query back, twice", output: output.stdout)
        }
        return response
    }

    /// A copy that does not retry again on an echoed query.
    private func retrying() -> Dig {
        var copy = self
        copy.retryOnEcho = false
        return copy
    }
}
