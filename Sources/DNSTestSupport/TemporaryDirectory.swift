public import Foundation

/// A fresh directory under the system temp dir, removed by `remove()` or when the value is released.
///
/// Test servers keep their config, run state and logs here so that parallel tests never share files.
public final class TemporaryDirectory: @unchecked Sendable {
    public let url: URL
    public var path: String { url.path }

    public init(prefix: String = "mcdns-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(prefix).XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard let created else {
            throw TestSupportError.system("mkdtemp failed for prefix \(prefix): errno \(errno)")
        }
        url = URL(fileURLWithPath: String(cString: created), isDirectory: true)
    }

    /// Writes `text` to `name` inside the directory and returns the file's path.
    @discardableResult
    public func write(_ name: String, _ text: String) throws -> String {
        let file = url.appendingPathComponent(name)
        try FileManager.default.createDirectory(
            at: file.deletingLastPathComponent(),
            withIntermediateDirectories: true
        )
        try text.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    public func subdirectory(_ name: String) throws -> URL {
        let sub = url.appendingPathComponent(name, isDirectory: true)
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        return sub
    }

    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    deinit { remove() }
}
