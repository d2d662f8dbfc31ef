/// `kind: Status` bodies with the apiserver's field order and wording (transcripts 46, 47, 50–57).
enum SimStatus {
    static func failure(
        code: Int,
        reason: String,
        message: String,
        details: [(String, SimJSON)]? = nil,
        metadata: [(String, SimJSON)] = []
    ) -> SimJSON {
        var members: [(String, SimJSON)] = [
            ("kind", .string("Status")), ("apiVersion", .string("v1")), ("metadata", .object(metadata)),
            ("status", .string("Failure")), ("message", .string(message)), ("reason", .string(reason)),
        ]
        if let details { members.append(("details", .object(details))) }
        members.append(("code", .number(code)))
        return .object(members)
    }

    static func error(
        code: Int,
        reason: String,
        message: String,
        details: [(String, SimJSON)]? = nil,
        metadata: [(String, SimJSON)] = []
    ) -> SimAPIError {
        let status = failure(code: code, reason: reason, message: message, details: details, metadata: metadata)
        return SimAPIError(code: code, reason: reason, message: message, statusJSON: status.text)
    }

    /// `details` naming an object: name, group (omitted for the core group), kind (the plural, as the apiserver
    /// puts it), uid.
    static func details(_ resource: SimResource, name: String?, uid: String? = nil) -> [(String, SimJSON)] {
        var details: [(String, SimJSON)] = []
        if let name { details.append(("name", .string(name))) }
        if !resource.group.isEmpty { details.append(("group", .string(resource.group))) }
        details.append(("kind", .string(resource.plural)))
        if let uid { details.append(("uid", .string(uid))) }
        return details
    }

    /// "services" or "endpointslices.discovery.k8s.io", as messages name a resource.
    static func qualified(_ resource: SimResource) -> String {
        resource.group.isEmpty ? resource.plural : "\(resource.plural).\(resource.group)"
    }

    static func notFound(_ resource: SimResource, name: String) -> SimAPIError {
        error(
            code: 404, reason: "NotFound", message: "\(qualified(resource)) \"\(name)\" not found",
            details: details(resource, name: name)
        )
    }

    /// A create in a namespace that does not exist (the NamespaceLifecycle admission plugin's answer).
    static func namespaceNotFound(_ namespace: String) -> SimAPIError {
        error(
            code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
            details: [("name", .string(namespace)), ("kind", .string("namespaces"))]
        )
    }

    static func alreadyExists(_ resource: SimResource, name: String) -> SimAPIError {
        error(
            code: 409, reason: "AlreadyExists", message: "\(qualified(resource)) \"\(name)\" already exists",
            details: details(resource, name: name)
        )
    }

    static func conflict(_ resource: SimResource, name: String, detail: String? = nil) -> SimAPIError {
        let why =
            detail ?? "the object has been modified; please apply your changes to the latest version and try again"
        return error(
            code: 409, reason: "Conflict",
            message: "Operation cannot be fulfilled on \(qualified(resource)) \"\(name)\": \(why)",
            details: details(resource, name: name)
        )
    }

    static func badRequest(_ message: String) -> SimAPIError {
        error(code: 400, reason: "BadRequest", message: message)
    }

    /// 422 Invalid with one cause (transcript 57). Invalid's details name the Kind, not the plural.
    static func invalid(
        _ resource: SimResource,
        name: String,
        field: String,
        causeReason: String,
        causeMessage: String
    ) -> SimAPIError {
        let kindName = resource.group.isEmpty ? resource.kind : "\(resource.kind).\(resource.group)"
        var details: [(String, SimJSON)] = [("name", .string(name))]
        if !resource.group.isEmpty { details.append(("group", .string(resource.group))) }
        details.append(("kind", .string(resource.kind)))
        details.append((
            "causes",
            .array([
                .object([
                    ("reason", .string(causeReason)), ("message", .string(causeMessage)), ("field", .string(field)),
                ])
            ])
        ))
        return error(
            code: 422, reason: "Invalid",
            message: "\(kindName) \"\(name)\" is invalid: \(field): \(causeMessage)", details: details
        )
    }

    static let unauthorized = error(code: 401, reason: "Unauthorized", message: "Unauthorized")

    /// 403 for a resource request (transcripts 51, 52).
    static func forbidden(
        _ resource: SimResource,
        user: String,
        verb: String,
        namespace: String?,
        name: String?
    ) -> SimAPIError {
        let subject = name.map { "\(qualified(resource)) \"\($0)\"" } ?? qualified(resource)
        let scope = namespace.map { "in the namespace \"\($0)\"" } ?? "at the cluster scope"
        return error(
            code: 403, reason: "Forbidden",
            message:
                "\(subject) is forbidden: User \"\(user)\" cannot \(verb) resource \"\(resource.plural)\" in API group \"\(resource.group)\" \(scope)",
            details: details(resource, name: name)
        )
    }

    /// 403 for a non-resource path (discovery without the system:discovery grant).
    static func forbiddenPath(user: String, path: String) -> SimAPIError {
        error(
            code: 403, reason: "Forbidden",
            message: "forbidden: User \"\(user)\" cannot get path \"\(path)\"", details: []
        )
    }

    /// The list answer at a compacted resourceVersion (transcripts 46, 65).
    static let listTooOld = error(
        code: 410, reason: "Expired", message: "The resourceVersion for the provided list is too old."
    )

    /// The watch cache's ERROR event text for a resourceVersion older than its window (transcripts 44, 45).
    static func watchTooOld(requested: UInt64, oldest: UInt64) -> SimJSON {
        failure(code: 410, reason: "Expired", message: "too old resource version: \(requested) (\(oldest))")
    }

    static let continueTooOldMessage =
        "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list."

    /// 410 for a continue token older than the compaction, carrying a fresh inconsistent-continue token (47, 64).
    static func continueTooOld(freshToken: String) -> SimAPIError {
        error(
            code: 410, reason: "Expired", message: continueTooOldMessage,
            metadata: [("continue", .string(freshToken))]
        )
    }

    /// The watch cache's answer to a resourceVersion it has not reached (storage.NewTooLargeResourceVersionError):
    /// a 504 Timeout with the ResourceVersionTooLarge cause and a one-second retry hint.
    static func tooLargeResourceVersion(requested: UInt64, current: UInt64) -> SimAPIError {
        error(
            code: 504, reason: "Timeout",
            message: "Timeout: Too large resource version: \(requested), current: \(current)",
            details: [
                (
                    "causes",
                    .array([
                        .object([
                            ("reason", .string("ResourceVersionTooLarge")),
                            ("message", .string("Too large resource version")),
                        ])
                    ])
                ),
                ("retryAfterSeconds", .number(1)),
            ]
        )
    }

    /// A Status for an injected HTTP error, with the apiserver's reason and message for the common codes.
    static func injected(code: Int, retryAfterSeconds: Int?) -> SimAPIError {
        let (reason, message): (String, String) =
            switch code {
            case 400: ("BadRequest", "the server rejected our request for an unknown reason")
            case 401: ("Unauthorized", "Unauthorized")
            case 403: ("Forbidden", "forbidden")
            case 404: ("NotFound", "the server could not find the requested resource")
            case 409: ("Conflict", "the server reported a conflict")
            case 410: ("Expired", "The resourceVersion for the provided list is too old.")
            case 429: ("TooManyRequests", "Too many requests, please try again later.")
            case 500: ("InternalError", "Internal error occurred: injected by the simulator")
            case 503: ("ServiceUnavailable", "The server is currently unable to handle the request")
            case 504: ("Timeout", "Timeout: request did not complete within the allowed duration")
            default: ("InternalError", "an error on the server (\"injected by the simulator\") has prevented the request from succeeding")
            }
        let details: [(String, SimJSON)]? = retryAfterSeconds.map { [("retryAfterSeconds", .number($0))] }
        return error(code: code, reason: reason, message: message, details: details)
    }

    /// A Service DELETE answers the object; an EndpointSlice DELETE this (transcript 28).
    static func deleteSuccess(_ resource: SimResource, name: String, uid: String?) -> SimJSON {
        .object([
            ("kind", .string("Status")), ("apiVersion", .string("v1")), ("metadata", .object([])),
            ("status", .string("Success")), ("details", .object(details(resource, name: name, uid: uid))),
        ])
    }
}
