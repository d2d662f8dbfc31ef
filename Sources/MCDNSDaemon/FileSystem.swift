import Foundation

/// The few file system questions configuration and zone loading ask, in one place.
enum FileSystem {
    enum Kind {
        case missing, file, directory
    }

    static func kind(of path: String) -> Kind {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return .missing }
        return isDirectory.boolValue ? .directory : .file
    }

    static func readText(_ path: String) throws -> String {
        try String(contentsOfFile: path, encoding: .utf8)
    }

    /// The regular files directly inside `directory` whose names end in `suffix`, sorted by name so loading order
    /// (and so every message) is the same on every run.
    static func files(in directory: String, suffix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(suffix) && !$0.hasPrefix(".") }
            .sorted()
            .map { directory.hasSuffix("/") ? directory + $0 : directory + "/" + $0 }
            .filter { kind(of: $0) == .file }
    }
}
