/// A `v1/Status` as the API server sends it for a failed request, in an error body or as a watch ERROR event.
public struct KubeStatus: Sendable, Equatable, CustomStringConvertible {
    public var code: Int?
    public var reason: String?
    public var message: String?
    /// `details.causes[].reason` (for instance `ResourceVersionTooLarge`).
    public var causes: [String]
    /// `details.retryAfterSeconds`.
    public var retryAfterSeconds: Int?

    public init(code: Int? = nil, reason: String? = nil, message: String? = nil, causes: [String] = [],
                retryAfterSeconds: Int? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.causes = causes
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// Reads a parsed Status (an error body or a watch ERROR object); anything missing stays nil.
    init(fields json: [String: KubeValue]) {
        func string(_ value: KubeValue?) -> String? {
            if case .string(let text)? = value?.content { return text }
            return nil
        }
        func int(_ value: KubeValue?) -> Int? {
            if case .int(let number)? = value?.content { return number }
            return nil
        }
        code = int(json["code"])
        reason = string(json["reason"])
        message = string(json["message"])
        var details: [String: KubeValue] = [:]
        if case .object(let fields)? = json["details"]?.content { details = fields }
        var causes: [String] = []
        if case .array(let items)? = details["causes"]?.content {
            for item in items {
                if case .object(let cause) = item.content, let reason = string(cause["reason"]) { causes.append(reason) }
            }
        }
        self.causes = causes
        retryAfterSeconds = int(details["retryAfterSeconds"])
    }

    /// 410 Gone / reason Expired (or Gone): the requested resourceVersion or continue token is compacted away.
    public var isExpired: Bool {
        code == 410 || reason == "Expired" || reason == "Gone"
    }

    /// The server has not yet seen the requested resourceVersion (a member restored from an older etcd backup,
    /// or a load balancer alternating between API servers): retry the same version later.
    public var isTooLargeResourceVersion: Bool {
        causes.contains("ResourceVersionTooLarge")
            || (message?.lowercased().contains("too large resource version") ?? false)
    }

    public var description: String {
        var parts: [String] = []
        if let code { parts.append("\(code)") }
        if let reason { parts.append(reason) }
        if let message { parts.append(message) }
        return parts.isEmpty ? "Status without details" : parts.joined(separator: " ")
    }
}
