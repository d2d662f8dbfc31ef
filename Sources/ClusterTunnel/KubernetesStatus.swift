import Foundation

/// A Kubernetes `Status` object (`kind: Status`), so a refusal from the agent reads like one from an API server.
struct KubernetesStatus: Encodable {
    struct Metadata: Encodable {}

    var kind = "Status"
    var apiVersion = "v1"
    var metadata = Metadata()
    var status = "Failure"
    var message: String
    var reason: String
    var code: Int

    static func failure(code: Int, reason: String, message: String) -> [UInt8] {
        let status = KubernetesStatus(message: message, reason: reason, code: code)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? Array(encoder.encode(status))) ?? Array("{\"kind\":\"Status\",\"code\":\(code)}".utf8)
    }
}
