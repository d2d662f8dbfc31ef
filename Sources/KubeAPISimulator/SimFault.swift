/// A misbehaviour the simulator shows on the next requests that match (see `KubeAPISimulator.inject`).
public enum SimFault: Sendable, Equatable {
    /// Close the TCP connection without a response.
    case dropConnection
    /// Accept the request and never answer; the connection stays open (no FIN) until the client gives up.
    case stall
    /// Send `200 OK` and the headers of a chunked response, then go silent without FIN.
    case stallAfterHeaders
    /// Answer normally after `Duration`.
    case delay(Duration)
    /// Carry the request out at once (watches see the change) but send its answer only after `Duration`, as on a
    /// slow link back to the client: the client may hear of later changes before it hears this answer.
    case answerLate(Duration)
    /// Answer with `code` and a Status body of the apiserver's shape (429 TooManyRequests, 500 InternalError,
    /// 503 ServiceUnavailable, …), with a `Retry-After` header and `details.retryAfterSeconds` when given.
    case status(code: Int, retryAfterSeconds: Int?)
    /// The apiserver's `504 Timeout` "Too large resource version" answer (with the ResourceVersionTooLarge cause).
    case tooLargeResourceVersion
    /// For a watch: `200 OK`, one ERROR event carrying a Status with `code` (410 = Expired), then the end of the
    /// stream. For any other request: that Status as the HTTP answer.
    case watchErrorEvent(code: Int)
    /// For a watch: `200 OK` and headers, then the end of the body with no events.
    case closeWatchImmediately
    /// The next list request carrying a `continue` token gets the 410 "continue parameter is too old" answer with
    /// a fresh inconsistent-continue token, as after an etcd compaction (transcript 47).
    case expireContinueToken
}

/// Which requests an injected fault applies to.
public enum SimRequestMatch: Sendable, Equatable {
    case any
    /// A list (a GET of a collection without `watch`) of the resource, in any namespace.
    case list(SimResource)
    /// A watch of the resource, in any namespace.
    case watch(SimResource)
    /// Any request whose path starts with the prefix.
    case path(prefix: String)
}

/// One request as the simulator saw it.
public struct SimRequestRecord: Sendable, CustomStringConvertible {
    public var method: String
    public var path: String
    /// Decoded query items in the order sent.
    public var query: [(name: String, value: String)]
    public var isWatch: Bool
    /// The resource a collection or object path names, if any.
    public var resource: SimResource?
    /// The HTTP status answered; 0 when no answer was sent (a dropped or stalled request).
    public var status: Int
    /// The authenticated user name; "system:anonymous" without credentials; nil when authentication failed.
    public var user: String?
    /// The fault applied to this request, if any.
    public var fault: SimFault?
    /// When the request was read, and when its answer (or a watch's headers) went out; nil while unanswered.
    /// Across simulators these tell how many requests a client had in flight at once.
    public var receivedAt: ContinuousClock.Instant
    public var answeredAt: ContinuousClock.Instant?

    public func queryValue(_ name: String) -> String? {
        query.first(where: { $0.name == name })?.value
    }

    /// A list: a GET of a collection that is not a watch.
    public var isList: Bool { method == "GET" && !isWatch && resource != nil && isCollection }

    var isCollection: Bool

    public var description: String {
        let queryText = query.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        return "\(method) \(path)\(queryText.isEmpty ? "" : "?" + queryText) -> \(status)"
            + (user.map { " (\($0))" } ?? "") + (fault.map { " [fault \($0)]" } ?? "")
    }
}

/// An error of the Swift API, carrying the Status the HTTP API would have answered (409 AlreadyExists,
/// 409 Conflict, 404 NotFound, 422 Invalid, 400 BadRequest).
public struct SimAPIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    /// The Status object as JSON text.
    public var statusJSON: String

    public var description: String { "\(code) \(reason): \(message)" }
}
