import DNSTestSupport
import Foundation

/// The parts of `swift package describe --type json` the dependency test reads.
struct PackageDescriptionJSON: Decodable {
    struct Target: Decodable {
        let name: String
        let type: String
        let path: String
        let targetDependencies: [String]?
        let productDependencies: [String]?

        enum CodingKeys: String, CodingKey {
            case name, type, path
            case targetDependencies = "target_dependencies"
            case productDependencies = "product_dependencies"
        }
    }

    let name: String
    let path: String
    let targets: [Target]

    /// The package root: two folders above this file (`Tests/PackageTests/`).
    static let packageRoot: String = {
        var components = URL(fileURLWithPath: #filePath).pathComponents
        components.removeLast(3)
        return components.joined(separator: "/").replacingOccurrences(of: "//", with: "/")
    }()

    /// Runs `swift package describe --type json` in the package root. Its own scratch path keeps it off the lock
    /// that the running `swift test` holds on `.build` (describe resolves nothing, so the folder stays empty).
    static func load() throws -> PackageDescriptionJSON {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "mcdns-describe-\(UUID().uuidString)"
        )
        defer { try? FileManager.default.removeItem(at: scratch) }
        let output = try ProcessRunner.run(
            "/usr/bin/env",
            ["swift", "package", "--scratch-path", scratch.path, "describe", "--type", "json"],
            timeout: .seconds(300),
            currentDirectory: packageRoot
        )
        guard output.status == 0, !output.timedOut else {
            throw DescribeFailed(status: output.status)
        }
        let data = Data(output.stdout.utf8)
        return try JSONDecoder().decode(PackageDescriptionJSON.self, from: data)
    }

    struct DescribeFailed: Error {
        let status: Int32
    }
}
