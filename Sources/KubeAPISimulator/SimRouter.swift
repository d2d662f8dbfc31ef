import NIOHTTP1

/// One request as the handler received it.
struct SimHTTPRequest {
    var method: String
    var path: String
    var query: [(name: String, value: String)]
    var headers: HTTPHeaders
    var body: [UInt8]

    func query(_ name: String) -> String? { query.last(where: { $0.name == name })?.value }

    var isWatchParameter: Bool {
        guard let value = query("watch") else { return false }
        return value == "1" || value.lowercased() == "true"
    }

    /// Splits "path?query" and percent-decodes the query items ('+' is a space, as Go's url.ParseQuery reads it).
    static func split(uri: String) -> (path: String, query: [(name: String, value: String)]) {
        let parts = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = percentDecoded(String(parts[0]), plusIsSpace: false)
        guard parts.count > 1 else { return (path, []) }
        let items = parts[1].split(separator: "&").map { item -> (name: String, value: String) in
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = percentDecoded(String(pair[0]), plusIsSpace: true)
            let value = pair.count > 1 ? percentDecoded(String(pair[1]), plusIsSpace: true) : ""
            return (name, value)
        }
        return (path, items)
    }

    static func percentDecoded(_ text: String, plusIsSpace: Bool) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            if byte == UInt8(ascii: "%"), iterator.count >= 2,
                let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                iterator = iterator.dropFirst(2)
            } else if byte == UInt8(ascii: "+"), plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Where a path leads.
enum SimRoute: Equatable {
    case version
    case apiVersions
    case apiGroupList
    case resourceList(groupVersion: String)
    case collection(SimResource, namespace: String?)
    case object(SimResource, namespace: String?, name: String)
    /// `…/NAME/status` of a resource with a status subresource.
    case status(SimResource, namespace: String?, name: String)
    /// `/api/v1/namespaces/NAME`: one Namespace object (only `kube-system` exists as an object).
    case namespace(name: String)
    case unknown

    init(path: String) {
        let segments = path.split(separator: "/").map(String.init)
        switch segments.count {
        case 1 where segments[0] == "version": self = .version; return
        case 1 where segments[0] == "api": self = .apiVersions; return
        case 1 where segments[0] == "apis": self = .apiGroupList; return
        default: break
        }
        let groupVersion: String
        let rest: ArraySlice<String>
        if segments.count >= 2, segments[0] == "api" {
            groupVersion = segments[1]
            rest = segments[2...]
        } else if segments.count >= 3, segments[0] == "apis" {
            groupVersion = "\(segments[1])/\(segments[2])"
            rest = segments[3...]
        } else {
            self = .unknown
            return
        }
        guard !rest.isEmpty else {
            self = SimDiscovery.resourceList(groupVersion: groupVersion) == nil ? .unknown : .resourceList(groupVersion: groupVersion)
            return
        }
        let parts = Array(rest)
        func resource(_ plural: String) -> SimResource? {
            SimResource.allCases.first { $0.apiVersion == groupVersion && $0.plural == plural }
        }
        if parts.count >= 3, parts[0] == "namespaces", let found = resource(parts[2]), found.namespaced {
            switch parts.count {
            case 3: self = .collection(found, namespace: parts[1])
            case 4: self = .object(found, namespace: parts[1], name: parts[3])
            case 5 where parts[4] == "status" && found.hasStatusSubresource:
                self = .status(found, namespace: parts[1], name: parts[3])
            default: self = .unknown
            }
            return
        }
        if groupVersion == "v1", parts.count == 2, parts[0] == "namespaces" {
            self = .namespace(name: parts[1])
            return
        }
        if let found = resource(parts[0]) {
            switch parts.count {
            case 1: self = .collection(found, namespace: nil)
            case 2 where !found.namespaced: self = .object(found, namespace: nil, name: parts[1])
            case 3 where !found.namespaced && parts[2] == "status" && found.hasStatusSubresource:
                self = .status(found, namespace: nil, name: parts[1])
            default: self = .unknown
            }
            return
        }
        self = .unknown
    }

    var resource: SimResource? {
        switch self {
        case .collection(let resource, _), .object(let resource, _, _), .status(let resource, _, _): resource
        default: nil
        }
    }

    var isCollection: Bool {
        if case .collection = self { return true }
        return false
    }

    var isDiscovery: Bool {
        switch self {
        case .version, .apiVersions, .apiGroupList, .resourceList: true
        default: false
        }
    }
}

/// What to send back.
enum SimAction {
    case respond(status: Int, body: String, contentType: String, headers: [(String, String)])
    case watch(SimWatchPlan)

    static func json(_ status: Int, _ body: SimJSON, headers: [(String, String)] = []) -> SimAction {
        .respond(status: status, body: body.text, contentType: "application/json", headers: headers)
    }

    static func error(_ error: SimAPIError) -> SimAction {
        var headers: [(String, String)] = []
        // The apiserver sets Retry-After from details.retryAfterSeconds (429, and the 504 of a too large version).
        if let status = try? SimJSON.parse(error.statusJSON),
            let seconds = status["details"]?["retryAfterSeconds"]?.intValue
        {
            headers.append(("Retry-After", String(seconds)))
        }
        return .respond(status: error.code, body: error.statusJSON, contentType: "application/json", headers: headers)
    }
}

struct SimWatchPlan {
    var resource: SimResource
    var filter: SimFilter
    var start: SimStore.WatchStart
    var initialEventsEndBookmark: Bool
    var allowBookmarks: Bool
    var timeout: Duration
}

/// Authentication, authorization and the API semantics of one request; independent of the connection.
struct SimRouter {
    let core: SimServerCore

    var configuration: SimulatorConfiguration { core.configuration }

    /// The user a request acts as, or the 401 Status. `certificateUser` is a verified client certificate's CN.
    func authenticate(_ request: SimHTTPRequest, certificateUser: String?) -> Result<String, SimAPIError> {
        if let certificateUser { return .success(certificateUser) }
        if let header = request.headers.first(name: "Authorization") {
            let parts = header.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .failure(SimStatus.unauthorized) }
            let token = String(parts[1]).trimmingSpaces
            if !configuration.authenticationEnabled { return .success("admin") }
            guard let user = configuration.tokens[token] else { return .failure(SimStatus.unauthorized) }
            return .success(user)
        }
        if !configuration.authenticationEnabled { return .success("admin") }
        return configuration.anonymousAuth ? .success("system:anonymous") : .failure(SimStatus.unauthorized)
    }

    func handle(_ request: SimHTTPRequest, route: SimRoute, user: String) -> SimAction {
        let anonymous = user == "system:anonymous"
        var route = route
        switch route {
        case .collection(let resource, _), .object(let resource, _, _), .status(let resource, _, _):
            if core.uninstalled.withLock({ $0.contains(resource) }) { route = .unknown }
        default:
            break
        }
        switch route {
        case .version:
            // system:public-info-viewer lets everyone, anonymous included, read the version.
            return .json(200, SimDiscovery.version(configuration.serverVersion))
        case .apiVersions, .apiGroupList, .resourceList:
            guard request.method == "GET" else { return methodNotAllowed() }
            // system:discovery is granted to authenticated users only (transcript 53 vs 52).
            if anonymous { return .error(SimStatus.forbiddenPath(user: user, path: request.path)) }
            return discovery(request, route: route)
        case .unknown:
            if anonymous { return .error(SimStatus.forbiddenPath(user: user, path: request.path)) }
            return .json(
                404,
                SimStatus.failure(
                    code: 404, reason: "NotFound", message: "the server could not find the requested resource",
                    details: []
                )
            )
        case .collection(let resource, let namespace):
            let verb: String =
                switch request.method {
                case "GET": request.isWatchParameter ? "watch" : "list"
                case "POST": "create"
                case "DELETE": "deletecollection"
                default: request.method.lowercased()
                }
            if let denied = authorize(user: user, verb: verb, resource: resource, namespace: namespace, name: nil) {
                return .error(denied)
            }
            switch request.method {
            case "GET": return request.isWatchParameter
                    ? watch(request, resource: resource, namespace: namespace)
                    : list(request, resource: resource, namespace: namespace)
            case "POST":
                if resource.namespaced, namespace == nil { return methodNotAllowed() }
                return create(request, resource: resource, namespace: namespace)
            default: return methodNotAllowed()
            }
        case .status(let resource, let namespace, let name):
            return status(request, resource: resource, namespace: namespace, name: name, user: user)
        case .namespace(let name):
            return namespace(request, name: name, user: user)
        case .object(let resource, let namespace, let name):
            let verb: String =
                switch request.method {
                case "GET": "get"
                case "PUT": "update"
                case "PATCH": "patch"
                case "DELETE": "delete"
                default: request.method.lowercased()
                }
            if let denied = authorize(user: user, verb: verb, resource: resource, namespace: namespace, name: name) {
                return .error(denied)
            }
            do throws(SimAPIError) {
                switch request.method {
                case "GET":
                    return answer(request, resource, try core.store.get(resource, namespace: namespace, name: name))
                case "PUT":
                    let body = try parseBody(request)
                    let stored = try core.store.update(
                        resource, namespace: namespace, name: name, body: body, manager: manager(request)
                    )
                    return .json(200, stored)
                case "PATCH":
                    let contentType = request.headers.first(name: "Content-Type") ?? ""
                    guard contentType.hasPrefix("application/merge-patch+json")
                        || contentType.hasPrefix("application/strategic-merge-patch+json")
                    else {
                        return .error(
                            SimStatus.error(
                                code: 415, reason: "UnsupportedMediaType",
                                message: "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json"
                            )
                        )
                    }
                    let patch = try parseBody(request)
                    let stored = try core.store.patch(
                        resource, namespace: namespace, name: name, patch: patch, manager: manager(request)
                    )
                    return .json(200, stored)
                case "DELETE":
                    var precondition: String?
                    if !request.body.isEmpty, let options = try? SimJSON.parse(request.body) {
                        precondition = options["preconditions"]?["resourceVersion"]?.stringValue
                    }
                    let deleted = try core.store.delete(
                        resource, namespace: namespace, name: name, preconditionResourceVersion: precondition
                    )
                    if resource.deleteReturnsObject { return .json(200, deleted) }
                    return .json(
                        200,
                        SimStatus.deleteSuccess(
                            resource, name: name, uid: deleted["metadata"]?["uid"]?.stringValue
                        )
                    )
                default:
                    return methodNotAllowed()
                }
            } catch {
                return .error(error)
            }
        }
    }

    /// The status subresource: GET answers the whole object; PUT and merge PATCH change only `status` (RBAC names
    /// it `RESOURCE/status`, as the apiserver's authorizer does).
    private func status(
        _ request: SimHTTPRequest,
        resource: SimResource,
        namespace: String?,
        name: String,
        user: String
    ) -> SimAction {
        let verb: String =
            switch request.method {
            case "GET": "get"
            case "PUT": "update"
            case "PATCH": "patch"
            default: request.method.lowercased()
            }
        if let denied = authorize(user: user, verb: verb, resource: resource, namespace: namespace, name: name) {
            return .error(denied)
        }
        do throws(SimAPIError) {
            switch request.method {
            case "GET":
                return .json(200, try core.store.get(resource, namespace: namespace, name: name))
            case "PUT":
                let stored = try core.store.update(
                    resource, namespace: namespace, name: name, body: try parseBody(request),
                    manager: manager(request), part: .status
                )
                return .json(200, stored)
            case "PATCH":
                let contentType = request.headers.first(name: "Content-Type") ?? ""
                guard contentType.hasPrefix("application/merge-patch+json") else {
                    return .error(
                        SimStatus.error(
                            code: 415, reason: "UnsupportedMediaType",
                            message: "the body of the request was in an unknown format - accepted media types include: application/merge-patch+json"
                        )
                    )
                }
                let stored = try core.store.patch(
                    resource, namespace: namespace, name: name, patch: try parseBody(request),
                    manager: manager(request), part: .status
                )
                return .json(200, stored)
            default:
                return methodNotAllowed()
            }
        } catch {
            return .error(error)
        }
    }

    /// GET of one Namespace. Only `kube-system` is an object here (its uid is the cluster's identity); any other
    /// name is 404, though resources in any namespace may be created.
    private func namespace(_ request: SimHTTPRequest, name: String, user: String) -> SimAction {
        guard request.method == "GET" else { return methodNotAllowed() }
        if user == "system:anonymous" {
            return .error(
                SimStatus.error(
                    code: 403, reason: "Forbidden",
                    message:
                        "namespaces \"\(name)\" is forbidden: User \"\(user)\" cannot get resource \"namespaces\" in API group \"\" in the namespace \"\(name)\"",
                    details: [("name", .string(name)), ("kind", .string("namespaces"))]
                )
            )
        }
        guard name == "kube-system" else {
            return .error(
                SimStatus.error(
                    code: 404, reason: "NotFound", message: "namespaces \"\(name)\" not found",
                    details: [("name", .string(name)), ("kind", .string("namespaces"))]
                )
            )
        }
        let uid = core.kubeSystemUID.withLock { $0 }
        return .json(
            200,
            .object([
                ("kind", .string("Namespace")), ("apiVersion", .string("v1")),
                (
                    "metadata",
                    .object([
                        ("name", .string(name)), ("uid", .string(uid)), ("resourceVersion", .string("4")),
                        ("creationTimestamp", .string("2026-01-01T00:00:00Z")),
                        ("labels", .object([("kubernetes.io/metadata.name", .string(name))])),
                    ])
                ),
                ("spec", .object([("finalizers", .array([.string("kubernetes")]))])),
                ("status", .object([("phase", .string("Active"))])),
            ])
        )
    }

    private func methodNotAllowed() -> SimAction {
        .json(
            405,
            SimStatus.failure(
                code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource",
                details: []
            )
        )
    }

    private func authorize(
        user: String,
        verb: String,
        resource: SimResource,
        namespace: String?,
        name: String?
    ) -> SimAPIError? {
        let anonymous = user == "system:anonymous"
        let allowed = configuration.allowedUsers[resource].map { $0.contains(user) } ?? !anonymous
        if allowed { return nil }
        return SimStatus.forbidden(resource, user: user, verb: verb, namespace: namespace, name: name)
    }

    private func discovery(_ request: SimHTTPRequest, route: SimRoute) -> SimAction {
        let aggregated = SimDiscovery.wantsAggregated(request.headers.first(name: "Accept"))
        let hidden = core.uninstalled.withLock { $0 }
        switch route {
        case .apiVersions where aggregated, .apiGroupList where aggregated:
            return .respond(
                status: 200, body: SimDiscovery.aggregated(core: route == .apiVersions, hidden: hidden).text,
                contentType: SimDiscovery.aggregatedContentType, headers: [("Vary", "Accept")]
            )
        case .apiVersions:
            return .json(200, SimDiscovery.apiVersions(serverAddress: core.serverAddress.withLock { $0 }))
        case .apiGroupList:
            return .json(200, SimDiscovery.apiGroupList(hidden: hidden))
        case .resourceList(let groupVersion):
            guard let list = SimDiscovery.resourceList(groupVersion: groupVersion, hidden: hidden) else {
                return .json(404, SimStatus.failure(code: 404, reason: "NotFound", message: "the server could not find the requested resource", details: []))
            }
            return .json(200, list)
        default:
            return .json(200, SimDiscovery.version(configuration.serverVersion))
        }
    }

    private func filter(
        _ request: SimHTTPRequest,
        resource: SimResource,
        namespace: String?
    ) throws(SimAPIError) -> SimFilter {
        var filter = SimFilter(namespace: namespace)
        if let text = request.query("labelSelector"), !text.isEmpty { filter.labels = try SimLabelSelector(parsing: text) }
        if let text = request.query("fieldSelector"), !text.isEmpty { 
            filter.fields = try SimFieldSelector(parsing: text, resource: resource)
        }
        return filter
    }

    private func list(_ request: SimHTTPRequest, resource: SimResource, namespace: String?) -> SimAction {
        do throws(SimAPIError) {
            var limit: Int?
            if let text = request.query("limit"), !text.isEmpty {
                guard let value = Int(text), value >= 0 else {
                    throw SimStatus.badRequest("invalid limit: \(text)")
                }
                limit = value > 0 ? value : nil
            }
            let listRequest = SimStore.ListRequest(
                filter: try filter(request, resource: resource, namespace: namespace), limit: limit,
                continueToken: request.query("continue"), resourceVersion: request.query("resourceVersion"),
                resourceVersionMatch: request.query("resourceVersionMatch")
            )
            return answer(
                request, resource, try core.store.list(resource, listRequest, maxPageSize: configuration.maxPageSize)
            )
        } catch {
            return .error(error)
        }
    }

    private func watch(_ request: SimHTTPRequest, resource: SimResource, namespace: String?) -> SimAction {
        do throws(SimAPIError) {
            let filter = try filter(request, resource: resource, namespace: namespace)
            let allowBookmarks = request.query("allowWatchBookmarks").map { $0 == "true" || $0 == "1" } ?? false
            let sendInitialEvents = request.query("sendInitialEvents").map { $0 == "true" || $0 == "1" } ?? false
            let start: SimStore.WatchStart
            let version = request.query("resourceVersion") ?? ""
            if sendInitialEvents || version.isEmpty || version == "0" {
                // No version (or "any"): synthetic ADDED events for the current state first (transcript 33).
                start = .currentState
            } else {
                guard let revision = UInt64(version) else {
                    throw SimStatus.badRequest("invalid resource version: \(version)")
                }
                start = .after(revision)
            }
            var timeout = configuration.defaultWatchTimeout
            if let text = request.query("timeoutSeconds"), !text.isEmpty {
                guard let seconds = Int(text), seconds >= 0 else {
                    throw SimStatus.badRequest("invalid timeoutSeconds: \(text)")
                }
                // Clamped to a year: the nanosecond timer would overflow on absurd values.
                if seconds > 0 { timeout = .seconds(min(seconds, 365 * 86400)) }
            }
            return .watch(
                SimWatchPlan(
                    resource: resource, filter: filter, start: start,
                    initialEventsEndBookmark: sendInitialEvents && allowBookmarks, allowBookmarks: allowBookmarks,
                    timeout: timeout
                )
            )
        } catch {
            return .error(error)
        }
    }

    private func create(_ request: SimHTTPRequest, resource: SimResource, namespace: String?) -> SimAction {
        do throws(SimAPIError) {
            if let namespace, let existing = configuration.namespaces, !existing.contains(namespace) {
                throw SimStatus.namespaceNotFound(namespace)
            }
            let body = try parseBody(request)
            let stored = try core.store.create(resource, namespace: namespace, body: body, manager: manager(request))
            return .json(201, stored)
        } catch {
            return .error(error)
        }
    }

    /// A read's answer: a Table when the client asks for one and the resource has printer columns, else the JSON.
    private func answer(_ request: SimHTTPRequest, _ resource: SimResource, _ json: SimJSON) -> SimAction {
        guard let columns = configuration.printerColumns[resource],
            SimTable.wanted(request.headers.first(name: "Accept"))
        else { return .json(200, json) }
        return .respond(
            status: 200, body: SimTable.table(json, columns: columns).text,
            contentType: SimTable.contentType, headers: [("Vary", "Accept")]
        )
    }

    private func parseBody(_ request: SimHTTPRequest) throws(SimAPIError) -> SimJSON {
        do {
            return try SimJSON.parse(request.body)
        } catch {
            throw SimStatus.badRequest("the body of the request was in an unknown format: \(error)")
        }
    }

    /// The field manager: the `fieldManager` parameter, else the User-Agent's program name (as the apiserver does).
    private func manager(_ request: SimHTTPRequest) -> String {
        if let manager = request.query("fieldManager"), !manager.isEmpty { return manager }
        if let agent = request.headers.first(name: "User-Agent"),
            let program = agent.split(separator: "/").first, !program.isEmpty
        {
            return String(program)
        }
        return "unknown"
    }
}
