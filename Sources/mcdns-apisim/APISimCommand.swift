import ArgumentParser
import Foundation
import KubeAPISimulator
import Yams

/// `mcdns-apisim`: the Kubernetes API simulator on its own, for demos (point kubectl or mcdns at the printed URL).
@main
struct APISimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mcdns-apisim",
        abstract: "Serve a simulated Kubernetes API (Services, EndpointSlices, ServiceExports, Nodes, Leases) on 127.0.0.1.",
        discussion: """
            Prints the bound URL on the first line of standard output, then serves until interrupted.
            Objects loaded with --load are created in file order; files may hold several YAML documents or a JSON
            object or list.
            """
    )

    @Option(help: "TCP port on 127.0.0.1; 0 picks a free one.")
    var port: Int = 0

    @Option(help: "A bearer token to accept, as TOKEN or TOKEN=USER (default user: admin). Repeatable. Without any, authentication is off.")
    var token: [String] = []

    @Option(help: "A directory of .yaml, .yml or .json files whose objects are created at start.")
    var load: String?

    @Option(help: "Serve HTTPS with this PEM certificate (needs --tls-key).")
    var tlsCert: String?

    @Option(help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(help: "Authenticate client certificates signed by this PEM CA (their CN is the user).")
    var clientCA: String?

    @Option(help: "Seconds between watch bookmarks.")
    var bookmarkSeconds: Int = 60

    mutating func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
        if clientCA != nil, tlsCert == nil { throw ValidationError("--client-ca needs --tls-cert and --tls-key") }
        if !(0...65535).contains(port) { throw ValidationError("--port must be 0…65535") }
        if bookmarkSeconds < 1 { throw ValidationError("--bookmark-seconds must be at least 1") }
    }

    func run() async throws {
        var tokens: [String: String] = [:]
        for entry in token {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = parts.first, !value.isEmpty else { throw ValidationError("empty --token") }
            tokens[value] = parts.count > 1 ? parts[1] : "admin"
        }
        let tls = tlsCert.map {
            SimulatorConfiguration.TLS(certificatePath: $0, keyPath: tlsKey ?? "", clientCAPath: clientCA)
        }
        let simulator = try await KubeAPISimulator.start(
            SimulatorConfiguration(port: port, tokens: tokens, tls: tls, bookmarkInterval: .seconds(bookmarkSeconds))
        )
        if let load {
            do {
                let count = try Self.load(directory: load, into: simulator)
                FileHandle.standardError.write(Data("mcdns-apisim: created \(count) objects from \(load)\n".utf8))
            } catch {
                try? await simulator.stop()
                throw error
            }
        }
        FileHandle.standardOutput.write(Data((simulator.baseURL + "\n").utf8))
        // Serve until SIGINT/SIGTERM ends the process.
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// Creates every object of every file in `directory`, sorted by file name.
    static func load(directory: String, into simulator: KubeAPISimulator) throws -> Int {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
            .sorted()
        var created = 0
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            let text = try String(contentsOfFile: path, encoding: .utf8)
            for document in try Yams.load_all(yaml: text) {
                for object in Self.objects(in: document) {
                    do {
                        try simulator.create(try Self.jsonText(object))
                        created += 1
                    } catch {
                        throw ValidationError("\(path): \(error)")
                    }
                }
            }
        }
        return created
    }

    /// A `kind: List` or `…List` spreads into its items.
    static func objects(in document: Any) -> [Any] {
        if let map = document as? [String: Any], let kind = map["kind"] as? String, kind.hasSuffix("List"),
            let items = map["items"] as? [Any]
        {
            return items
        }
        return [document]
    }

    static func jsonText(_ value: Any) throws -> String {
        let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys])
        return String(decoding: data, as: UTF8.self)
    }
}
