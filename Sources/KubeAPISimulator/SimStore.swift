import Foundation
import Synchronization

/// What a watch receives, in order, on its connection's event loop.
enum SimWatchDelivery: Sendable {
    case event(type: String, object: SimJSON)
    /// Bytes written as they are, as one chunk (framing tests).
    case raw(String)
    /// End the stream normally (the chunked terminator).
    case close
}

/// The filter of a list or watch: namespace, label and field selectors.
struct SimFilter: Sendable {
    var namespace: String?
    var labels = SimLabelSelector.everything
    var fields = SimFieldSelector()

    var hasSelectors: Bool { !labels.requirements.isEmpty || !fields.requirements.isEmpty }

    var isEverything: Bool { namespace == nil && !hasSelectors }

    func matches(_ object: SimJSON) -> Bool {
        if isEverything { return true }
        let metadata = object["metadata"] ?? .object([])
        let namespace = metadata["namespace"]?.stringValue
        if let wanted = self.namespace, namespace != wanted { return false }
        return fields.matches(object) && labels.matches(metadata.stringMap("labels") ?? [:])
    }
}

/// The object store of one simulator: etcd's single revision counter, the current objects, and per resource the
/// log of events since the last compaction, from which both watch replays and the snapshots behind continue
/// tokens and `resourceVersionMatch=Exact` lists are rebuilt. All state sits behind one lock; watches are fed from
/// inside it, so every watch sees events in revision order with none missed or doubled.
final class SimStore: Sendable {
    struct Event: Sendable {
        var revision: UInt64
        var type: String
        var key: String
        var object: SimJSON
        var previous: SimJSON?
    }

    struct Watcher: Sendable {
        var resource: SimResource
        var filter: SimFilter
        /// Events (and bookmarks) at or below this revision are not sent: a watch from a version the store has not
        /// reached waits, silent, until the store passes it (the watch cache's `cacheWatcher` does the same).
        var after: UInt64 = 0
        var deliver: @Sendable (SimWatchDelivery) -> Void
    }

    struct State: Sendable {
        var revision: UInt64 = 1
        /// Lists, watches and continue tokens at a revision older than this answer 410.
        var compactedRevision: UInt64 = 1
        var objects: [SimResource: [String: SimJSON]] = [:]
        var log: [SimResource: [Event]] = [:]
        var watchers: [UInt64: Watcher] = [:]
        var nextWatcherID: UInt64 = 1
        var nextClusterIP: UInt32 = 10
        var nextNodePort = 30000
    }

    private let state: Mutex<State>
    let clock: @Sendable () -> Date

    /// `initialRevision` is etcd's revision before the first write (1 for a fresh etcd; more for a server with a
    /// history, so two simulators can have versions far apart).
    init(initialRevision: UInt64 = 1, clock: @escaping @Sendable () -> Date = { Date() }) {
        var initial = State()
        initial.revision = max(initialRevision, 1)
        initial.compactedRevision = initial.revision
        self.state = Mutex(initial)
        self.clock = clock
    }

    var currentRevision: UInt64 { state.withLock { $0.revision } }

    static func key(namespace: String?, name: String) -> String {
        namespace.map { "\($0)/\(name)" } ?? name
    }

    // MARK: reads

    func get(_ resource: SimResource, namespace: String?, name: String) throws(SimAPIError) -> SimJSON {
        let found = state.withLock { $0.objects[resource]?[Self.key(namespace: namespace, name: name)] }
        guard let found else { throw SimStatus.notFound(resource, name: name) }
        return found
    }

    func objects(_ resource: SimResource, namespace: String?) -> [SimJSON] {
        state.withLock { state in
            (state.objects[resource] ?? [:])
                .filter { namespace == nil || $0.value["metadata"]?["namespace"]?.stringValue == namespace }
                .sorted { $0.key < $1.key }
                .map(\.value)
        }
    }

    struct ListRequest {
        var filter: SimFilter
        var limit: Int?
        var continueToken: String?
        var resourceVersion: String?
        var resourceVersionMatch: String?
    }

    /// A list answer: the `…List` object, or the Status to send.
    func list(_ resource: SimResource, _ request: ListRequest, maxPageSize: Int) throws(SimAPIError) -> SimJSON {
        try state.withLock { state throws(SimAPIError) -> SimJSON in
            var snapshotRevision = state.revision
            var startAfter: String?
            var limit = request.limit.map { min($0, maxPageSize) }
            if let token = request.continueToken, !token.isEmpty {
                guard request.resourceVersion.map({ $0.isEmpty }) ?? true else {
                    throw SimStatus.badRequest("specifying resource version is not allowed when using continue")
                }
                let decoded = try SimContinueToken.decode(token)
                startAfter = Self.storageKey(fromTokenStart: decoded.start, namespace: request.filter.namespace)
                if decoded.revision == -1 {
                    // An inconsistent continue (the fresh token of a 410): the remainder from the current state.
                    snapshotRevision = state.revision
                } else if decoded.revision < 0 || UInt64(decoded.revision) < state.compactedRevision {
                    let fresh = SimContinueToken(revision: -1, start: decoded.start.trimmingLeadingSlash).encoded
                    throw SimStatus.continueTooOld(freshToken: fresh)
                } else {
                    snapshotRevision = UInt64(decoded.revision)
                }
            } else if let text = request.resourceVersion, !text.isEmpty {
                guard let requested = UInt64(text) else {
                    throw SimStatus.badRequest("invalid resource version: \(text)")
                }
                let match = request.resourceVersionMatch ?? ""
                if requested == 0 {
                    // Served from the watch cache at whatever it holds; the apiserver ignores limit (transcript 14).
                    limit = nil
                } else if match == "Exact" || (match.isEmpty && limit != nil) {
                    if requested > state.revision {
                        throw SimStatus.tooLargeResourceVersion(requested: requested, current: state.revision)
                    }
                    if requested < state.compactedRevision { throw SimStatus.listTooOld }
                    snapshotRevision = requested
                } else {
                    if requested > state.revision {
                        throw SimStatus.tooLargeResourceVersion(requested: requested, current: state.revision)
                    }
                }
            }
            let snapshot = Self.objects(of: resource, at: snapshotRevision, in: state)
            var keys = snapshot.keys.filter { key in
                guard let startAfter else { return true }
                return startAfter < key
            }
            keys.sort()
            var items: [SimJSON] = []
            var lastKey: String?
            var remaining = 0
            let namespacePrefix = request.filter.namespace.map { $0 + "/" }
            for key in keys {
                if let namespacePrefix, !key.hasPrefix(namespacePrefix) { continue }
                guard let object = snapshot[key], request.filter.matches(object) else { continue }
                if let limit, limit > 0, items.count >= limit {
                    remaining += 1
                    continue
                }
                items.append(resource.isCustomResource ? object : Self.withoutTypeMeta(object))
                lastKey = key
            }
            var metadata: [(String, SimJSON)] = [("resourceVersion", .string(String(snapshotRevision)))]
            if remaining > 0, let lastKey {
                let start = Self.tokenStart(forKey: lastKey, resource: resource, namespace: request.filter.namespace)
                let token = SimContinueToken(revision: Int64(snapshotRevision), start: start)
                metadata.append(("continue", .string(token.encoded)))
                // The apiserver leaves the count out when a selector makes it unknowable.
                if !request.filter.hasSelectors { metadata.append(("remainingItemCount", .number(remaining))) }
            }
            return .object([
                ("kind", .string(resource.listKind)), ("apiVersion", .string(resource.apiVersion)),
                ("metadata", .object(metadata)), ("items", .array(items)),
            ])
        }
    }

    /// The objects of `resource` as they were at `revision`: the current ones with later events undone.
    private static func objects(of resource: SimResource, at revision: UInt64, in state: State) -> [String: SimJSON] {
        var objects = state.objects[resource] ?? [:]
        for event in (state.log[resource] ?? []).reversed() {
            guard event.revision > revision else { break }
            switch event.type {
            case "ADDED": objects[event.key] = nil
            default: objects[event.key] = event.previous
            }
        }
        return objects
    }

    static func withoutTypeMeta(_ object: SimJSON) -> SimJSON {
        var copy = object
        copy.set("kind", nil)
        copy.set("apiVersion", nil)
        return copy
    }

    /// etcd's key relative to the listed prefix, as the apiserver puts it in continue tokens (transcripts 10, 61):
    /// "/demo/svc-a" across namespaces, "svc-a" within one; the trailing NUL makes the next page start after it.
    private static func tokenStart(forKey key: String, resource: SimResource, namespace: String?) -> String {
        if namespace != nil, resource.namespaced, let slash = key.firstIndex(of: "/") {
            return String(key[key.index(after: slash)...]) + "\u{0}"
        }
        return "/" + key + "\u{0}"
    }

    private static func storageKey(fromTokenStart start: String, namespace: String?) -> String {
        var key = start
        if key.hasSuffix("\u{0}") { key.removeLast() }
        key = key.trimmingLeadingSlash
        if let namespace, !key.contains("/") { key = namespace + "/" + key }
        return key
    }

    // MARK: writes

    /// Stores a new object. `namespace` is the one of the request path (nil for the Swift API and cluster scope).
    func create(
        _ resource: SimResource,
        namespace pathNamespace: String?,
        body: SimJSON,
        manager: String
    ) throws(SimAPIError) -> SimJSON {
        guard body.isObject else { throw SimStatus.badRequest("the body of the request was in an unknown format") }
        try Self.checkTypeMeta(body, resource)
        var metadata = body["metadata"] ?? .object([])
        var name = metadata["name"]?.stringValue ?? ""
        if name.isEmpty, let prefix = metadata["generateName"]?.stringValue, !prefix.isEmpty {
            name = prefix + Self.randomSuffix()
            metadata.set("name", .string(name))
        }
        guard !name.isEmpty else {
            throw SimStatus.invalid(
                resource, name: "", field: "metadata.name", causeReason: "FieldValueRequired",
                causeMessage: "Required value: name or generateName is required"
            )
        }
        let namespace = try Self.resolveNamespace(resource, path: pathNamespace, body: metadata["namespace"]?.stringValue)
        try SimValidation.validate(resource, name: name, object: body)
        return try state.withLock { state throws(SimAPIError) -> SimJSON in
            let key = Self.key(namespace: namespace, name: name)
            if state.objects[resource]?[key] != nil { throw SimStatus.alreadyExists(resource, name: name) }
            let revision = state.revision + 1
            let now = Self.timestamp(clock())
            metadata.set("namespace", namespace.map { .string($0) })
            metadata.set("uid", .string(UUID().uuidString.lowercased()))
            metadata.set("resourceVersion", .string(String(revision)))
            metadata.set("generation", resource.tracksGeneration ? .number(1) : nil)
            metadata.set("creationTimestamp", .string(now))
            metadata.set("deletionTimestamp", nil)
            var object = body
            object.set("kind", .string(resource.kind))
            object.set("apiVersion", .string(resource.apiVersion))
            object.set("metadata", metadata)
            // A type with a status subresource starts without status; only /status writes it.
            if resource.statusOnlyThroughSubresource { object.set("status", nil) }
            object = SimDefaults.apply(resource, to: object, previous: nil, allocator: &state)
            object = Self.canonical(Self.withManagedFields(object, manager: manager, time: now, resource: resource))
            state.revision = revision
            state.objects[resource, default: [:]][key] = object
            Self.record(Event(revision: revision, type: "ADDED", key: key, object: object, previous: nil), resource, &state)
            return object
        }
    }

    /// Which part of an object a write may change.
    enum WritePart {
        /// The main resource: everything but `status` where the type has a status subresource.
        case main
        /// The status subresource: only `status`; the rest of the body is ignored.
        case status
    }

    /// PUT: replaces the object; a non-empty `metadata.resourceVersion` must be the stored one (409 otherwise).
    func update(
        _ resource: SimResource,
        namespace pathNamespace: String?,
        name pathName: String?,
        body: SimJSON,
        manager: String,
        part: WritePart = .main
    ) throws(SimAPIError) -> SimJSON {
        guard body.isObject else { throw SimStatus.badRequest("the body of the request was in an unknown format") }
        try Self.checkTypeMeta(body, resource)
        let metadata = body["metadata"] ?? .object([])
        let name = metadata["name"]?.stringValue ?? pathName ?? ""
        if let pathName, name != pathName {
            throw SimStatus.badRequest("the name of the object (\(name)) does not match the name on the URL (\(pathName))")
        }
        let namespace = try Self.resolveNamespace(resource, path: pathNamespace, body: metadata["namespace"]?.stringValue)
        try SimValidation.validate(resource, name: name, object: body)
        let sent = metadata["resourceVersion"]?.stringValue ?? ""
        if sent.isEmpty, resource.requiresResourceVersionOnUpdate {
            throw SimStatus.invalid(
                resource, name: name, field: "metadata.resourceVersion", causeReason: "FieldValueInvalid",
                causeMessage: "Invalid value: 0x0: must be specified for an update"
            )
        }
        return try state.withLock { state throws(SimAPIError) -> SimJSON in
            let key = Self.key(namespace: namespace, name: name)
            guard let old = state.objects[resource]?[key] else { throw SimStatus.notFound(resource, name: name) }
            if !sent.isEmpty, sent != old["metadata"]?["resourceVersion"]?.stringValue {
                throw SimStatus.conflict(resource, name: name)
            }
            let new = Self.restricted(body, to: part, of: resource, old: old)
            return Self.replace(resource, key: key, old: old, new: new, manager: manager, clock: clock, &state)
        }
    }

    /// What a write to `part` keeps of `body`, as the apiserver's status strategies do: a status write takes only
    /// `status` (the rest, metadata included, stays as stored); a main write keeps the stored `status` where the
    /// type has a status subresource.
    private static func restricted(_ body: SimJSON, to part: WritePart, of resource: SimResource, old: SimJSON)
        -> SimJSON
    {
        switch part {
        case .status:
            var object = old
            object.set("status", body["status"])
            return object
        case .main where resource.statusOnlyThroughSubresource:
            var object = body
            object.set("status", old["status"])
            return object
        case .main:
            return body
        }
    }

    /// PATCH with a JSON merge patch (strategic merge patches are applied the same way).
    func patch(
        _ resource: SimResource,
        namespace: String?,
        name: String,
        patch: SimJSON,
        manager: String,
        part: WritePart = .main
    ) throws(SimAPIError) -> SimJSON {
        guard patch.isObject else { throw SimStatus.badRequest("the body of the request was in an unknown format") }
        return try state.withLock { state throws(SimAPIError) -> SimJSON in
            let key = Self.key(namespace: resource.namespaced ? namespace : nil, name: name)
            guard let old = state.objects[resource]?[key] else { throw SimStatus.notFound(resource, name: name) }
            if let sent = patch["metadata"]?["resourceVersion"]?.stringValue,
                sent != old["metadata"]?["resourceVersion"]?.stringValue
            {
                throw SimStatus.conflict(resource, name: name)
            }
            let patched = Self.restricted(old.mergePatched(with: patch), to: part, of: resource, old: old)
            if patched["metadata"]?["name"]?.stringValue != name {
                throw SimStatus.badRequest("metadata.name: Invalid value: the name cannot be changed by a patch")
            }
            try SimValidation.validate(resource, name: name, object: patched)
            return Self.replace(resource, key: key, old: old, new: patched, manager: manager, clock: clock, &state)
        }
    }

    private static func replace(
        _ resource: SimResource,
        key: String,
        old: SimJSON,
        new body: SimJSON,
        manager: String,
        clock: @Sendable () -> Date,
        _ state: inout State
    ) -> SimJSON {
        let oldMetadata = old["metadata"] ?? .object([])
        var metadata = body["metadata"] ?? .object([])
        // Fields the server owns come from the stored object, whatever the client sent.
        for field in ["name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion", "managedFields"] {
            metadata.set(field, oldMetadata[field])
        }
        var object = body
        object.set("kind", .string(resource.kind))
        object.set("apiVersion", .string(resource.apiVersion))
        object.set("metadata", metadata)
        object = canonical(SimDefaults.apply(resource, to: object, previous: old, allocator: &state))
        // A no-op update keeps the revision and sends no event, as the apiserver does.
        if object == old { return old }
        let revision = state.revision + 1
        if resource.tracksGeneration, specChanged(old, object), let generation = oldMetadata["generation"]?.intValue {
            metadata.set("generation", .number(generation + 1))
        }
        metadata.set("resourceVersion", .string(String(revision)))
        object.set("metadata", metadata)
        object = canonical(withManagedFields(object, manager: manager, time: timestamp(clock()), resource: resource))
        state.revision = revision
        state.objects[resource, default: [:]][key] = object
        record(Event(revision: revision, type: "MODIFIED", key: key, object: object, previous: old), resource, &state)
        return object
    }

    /// Deletes the object; returns it as the DELETED event carries it (with the deletion's revision).
    @discardableResult
    func delete(
        _ resource: SimResource,
        namespace: String?,
        name: String,
        preconditionResourceVersion: String? = nil
    ) throws(SimAPIError) -> SimJSON {
        try state.withLock { state throws(SimAPIError) -> SimJSON in
            let key = Self.key(namespace: resource.namespaced ? (namespace ?? "default") : nil, name: name)
            guard let old = state.objects[resource]?[key] else { throw SimStatus.notFound(resource, name: name) }
            let stored = old["metadata"]?["resourceVersion"]?.stringValue ?? ""
            if let precondition = preconditionResourceVersion, precondition != stored {
                throw SimStatus.conflict(
                    resource, name: name,
                    detail:
                        "Precondition failed: ResourceVersion in precondition: \(precondition), ResourceVersion in object meta: \(stored)"
                )
            }
            let revision = state.revision + 1
            var object = old
            var metadata = object["metadata"] ?? .object([])
            metadata.set("resourceVersion", .string(String(revision)))
            object.set("metadata", metadata)
            state.revision = revision
            state.objects[resource]?[key] = nil
            Self.record(Event(revision: revision, type: "DELETED", key: key, object: object, previous: old), resource, &state)
            return object
        }
    }

    /// Appends the event to the log and hands it to every watch it concerns, translating a selector transition
    /// into ADDED/DELETED as the watch cache does.
    private static func record(_ event: Event, _ resource: SimResource, _ state: inout State) {
        state.log[resource, default: []].append(event)
        for watcher in state.watchers.values where watcher.resource == resource && event.revision > watcher.after {
            if let delivery = translate(event, for: watcher.filter) { watcher.deliver(delivery) }
        }
    }

    private static func translate(_ event: Event, for filter: SimFilter) -> SimWatchDelivery? {
        let now = filter.matches(event.object)
        switch event.type {
        case "MODIFIED":
            let before = event.previous.map(filter.matches) ?? false
            switch (before, now) {
            case (true, true): return .event(type: "MODIFIED", object: event.object)
            case (false, true): return .event(type: "ADDED", object: event.object)
            case (true, false):
                // The watch cache sends the previous object with the event's revision.
                var previous = event.previous ?? event.object
                var metadata = previous["metadata"] ?? .object([])
                metadata.set("resourceVersion", .string(String(event.revision)))
                previous.set("metadata", metadata)
                return .event(type: "DELETED", object: previous)
            case (false, false): return nil
            }
        default:
            return now ? .event(type: event.type, object: event.object) : nil
        }
    }

    // MARK: watches

    enum WatchStart {
        /// From this revision on (exclusive); nil sends the current state as ADDED first.
        case after(UInt64)
        case currentState
    }

    /// Registers a watch and, under the same lock, delivers what it must see first. Returns its id, or the
    /// Status to send as the stream's only ERROR event (too old). A revision the store has not reached is
    /// answered as the apiserver does (200, then nothing until the store passes it), not with an error.
    func startWatch(
        _ resource: SimResource,
        filter: SimFilter,
        from start: WatchStart,
        initialEventsEndBookmark: Bool,
        deliver: @escaping @Sendable (SimWatchDelivery) -> Void
    ) throws(SimAPIError) -> Result<UInt64, SimWatchExpired> {
        try state.withLock { state throws(SimAPIError) -> Result<UInt64, SimWatchExpired> in
            var after: UInt64 = 0
            switch start {
            case .after(let revision) where revision > state.revision:
                after = revision
            case .after(let revision):
                if revision < state.compactedRevision {
                    return .failure(SimWatchExpired(requested: revision, oldest: state.compactedRevision))
                }
                for event in state.log[resource] ?? [] where event.revision > revision {
                    if let delivery = Self.translate(event, for: filter) { deliver(delivery) }
                }
            case .currentState:
                let objects = (state.objects[resource] ?? [:]).sorted { $0.key < $1.key }
                for (_, object) in objects where filter.matches(object) {
                    deliver(.event(type: "ADDED", object: object))
                }
                if initialEventsEndBookmark {
                    let bookmark = resource.bookmarkObject(
                        resourceVersion: String(state.revision),
                        annotations: [("k8s.io/initial-events-end", .string("true"))]
                    )
                    deliver(.event(type: "BOOKMARK", object: bookmark))
                }
            }
            let id = state.nextWatcherID
            state.nextWatcherID += 1
            state.watchers[id] = Watcher(resource: resource, filter: filter, after: after, deliver: deliver)
            return .success(id)
        }
    }

    /// Sends a BOOKMARK at the current revision to one watch, in order after every event already sent to it.
    func bookmark(_ id: UInt64) {
        state.withLock { state in
            guard let watcher = state.watchers[id], state.revision > watcher.after else { return }
            let object = watcher.resource.bookmarkObject(resourceVersion: String(state.revision))
            watcher.deliver(.event(type: "BOOKMARK", object: object))
        }
    }

    /// Writes `text` as it is to every open watch of `resource`, in order with the events; returns how many.
    func emitRaw(_ text: String, to resource: SimResource) -> Int {
        state.withLock { state in
            let watchers = state.watchers.values.filter { $0.resource == resource }
            for watcher in watchers { watcher.deliver(.raw(text)) }
            return watchers.count
        }
    }

    /// Ends one watch normally, after the events already sent to it.
    func endWatch(_ id: UInt64) {
        state.withLock { state in
            state.watchers.removeValue(forKey: id)?.deliver(.close)
        }
    }

    /// Forgets a watch whose connection went away.
    func removeWatch(_ id: UInt64) {
        _ = state.withLock { $0.watchers.removeValue(forKey: id) }
    }

    func endAllWatches() {
        state.withLock { state in
            for watcher in state.watchers.values { watcher.deliver(.close) }
            state.watchers.removeAll()
        }
    }

    /// Drops every watch without telling it (the connections are being closed).
    func forgetWatches() {
        state.withLock { $0.watchers.removeAll() }
    }

    var openWatchCount: Int { state.withLock { $0.watchers.count } }

    /// Every revision before the current one becomes too old, and the event logs are dropped.
    func compact() {
        state.withLock { state in
            state.compactedRevision = state.revision
            state.log.removeAll()
        }
    }

    var compactedRevision: UInt64 { state.withLock { $0.compactedRevision } }

    /// The objects and revision now, for `restore(_:)`.
    func snapshot() -> SimSnapshot {
        state.withLock { SimSnapshot(revision: $0.revision, objects: $0.objects) }
    }

    /// Goes back to `snapshot` as etcd restored from a backup does: its objects, its (lower) revision, no event
    /// log before it. Open watches are dropped without a word (the caller closes their connections).
    func restore(_ snapshot: SimSnapshot) {
        state.withLock { state in
            state.revision = snapshot.revision
            state.compactedRevision = snapshot.revision
            state.objects = snapshot.objects
            state.log.removeAll()
            state.watchers.removeAll()
        }
    }

    // MARK: helpers

    private static func checkTypeMeta(_ body: SimJSON, _ resource: SimResource) throws(SimAPIError) {
        if let kind = body["kind"]?.stringValue, !kind.isEmpty, kind != resource.kind {
            throw SimStatus.badRequest(
                "the API version in the data (\(body["apiVersion"]?.stringValue ?? "")) does not match the expected API version (\(resource.apiVersion))"
            )
        }
        if let apiVersion = body["apiVersion"]?.stringValue, !apiVersion.isEmpty, apiVersion != resource.apiVersion {
            throw SimStatus.badRequest(
                "the API version in the data (\(apiVersion)) does not match the expected API version (\(resource.apiVersion))"
            )
        }
    }

    private static func resolveNamespace(
        _ resource: SimResource,
        path: String?,
        body: String?
    ) throws(SimAPIError) -> String? {
        guard resource.namespaced else { return nil }
        if let path {
            if let body, !body.isEmpty, body != path {
                throw SimStatus.badRequest(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
            }
            return path
        }
        if let body, !body.isEmpty { return body }
        return "default"
    }

    private static func randomSuffix() -> String {
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        return String((0..<5).map { _ in alphabet.randomElement()! })
    }

    /// RFC 3339 in UTC with whole seconds, as metadata timestamps are (a formatter per call is slow on Linux).
    static func timestamp(_ date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T"
            + "\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }

    /// Whether anything but metadata and status changed: what bumps `metadata.generation`.
    private static func specChanged(_ old: SimJSON, _ new: SimJSON) -> Bool {
        let ignored: Set<String> = ["metadata", "status", "kind", "apiVersion"]
        let before = old.objectMembers.filter { !ignored.contains($0.0) }
        let after = new.objectMembers.filter { !ignored.contains($0.0) }
        return SimJSON.object(before) != SimJSON.object(after)
    }

    /// One managedFields entry naming the writer, so clients see (and must drop) what the apiserver sends.
    private static func withManagedFields(_ object: SimJSON, manager: String, time: String, resource: SimResource)
        -> SimJSON
    {
        func fields(_ value: SimJSON) -> SimJSON {
            guard case .object(let members) = value else { return .object([]) }
            return .object(members.map { ("f:" + $0.0, fields($0.1)) })
        }
        var owned = object.objectMembers.filter { !["kind", "apiVersion", "metadata", "status"].contains($0.0) }
        if let labels = object["metadata"]?["labels"] {
            owned.insert(("metadata", .object([("labels", labels)])), at: 0)
        }
        let entry: SimJSON = .object([
            ("manager", .string(manager)), ("operation", .string("Update")),
            ("apiVersion", .string(resource.apiVersion)), ("time", .string(time)),
            ("fieldsType", .string("FieldsV1")), ("fieldsV1", fields(.object(owned))),
        ])
        var copy = object
        var metadata = copy["metadata"] ?? .object([])
        metadata.set("managedFields", .array([entry]))
        copy.set("metadata", metadata)
        return copy
    }

    /// The apiserver's field order: kind, apiVersion, metadata first; metadata in ObjectMeta's order.
    static func canonical(_ object: SimJSON) -> SimJSON {
        var copy = object.ordered(["kind", "apiVersion", "metadata"])
        if let metadata = copy["metadata"] {
            copy.set(
                "metadata",
                metadata.ordered([
                    "name", "generateName", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
                    "deletionTimestamp", "labels", "annotations", "ownerReferences", "finalizers", "managedFields",
                ])
            )
        }
        return copy
    }
}

/// A store's objects and revision at one moment (`KubeAPISimulator.snapshot()`), as an etcd backup holds them.
public struct SimSnapshot: Sendable {
    /// etcd's revision at the snapshot: the resourceVersion a list would have answered.
    public let revision: UInt64
    let objects: [SimResource: [String: SimJSON]]
}

/// Why a watch could not start: its resourceVersion is older than the compaction.
struct SimWatchExpired: Error, Sendable {
    var requested: UInt64
    var oldest: UInt64
}

extension String {
    var trimmingLeadingSlash: String { hasPrefix("/") ? String(dropFirst()) : self }
}
