import Foundation
import NIOCore

/// Reads and writes single objects of one resource through a `KubeConnector`: GET, POST, PUT, PUT of the
/// `/status` subresource and DELETE, with JSON bodies. What the status writer and the leader elector need; the
/// reflector does lists and watches.
///
/// Objects travel as `KubeValue` trees (the server's JSON, `managedFields` dropped), so a caller can send back
/// what it read with only its own fields changed, resourceVersion included: a stale one gets
/// `KubeAPIError.conflict`.
public struct KubeResourceClient: Sendable {
    /// A REST resource: where its objects live.
    public struct Resource: Sendable, Hashable {
        public var apiVersion: String
        public var plural: String

        public init(apiVersion: String, plural: String) {
            self.apiVersion = apiVersion
            self.plural = plural
        }

        public static let leases = Resource(apiVersion: "coordination.k8s.io/v1", plural: "leases")
        /// core/v1 Events, which the status writer records on ServiceDNSRecords (`kubectl describe` lists them).
        public static let events = Resource(apiVersion: "v1", plural: "events")
        public static let serviceDNSRecords = Resource(
            apiVersion: KubeObjectKind.serviceDNSRecord.apiVersion,
            plural: KubeObjectKind.serviceDNSRecord.resource
        )

        func path(namespace: String, name: String? = nil) -> String {
            let prefix = apiVersion.contains("/") ? "/apis/\(apiVersion)" : "/api/\(apiVersion)"
            var path = "\(prefix)/namespaces/\(Self.escape(namespace))/\(plural)"
            if let name { path += "/\(Self.escape(name))" }
            return path
        }

        private static func escape(_ value: String) -> String {
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value
        }
    }

    public let resource: Resource
    private let connector: any KubeConnector
    /// Bounds each request, so a stalled API server cannot hold a writer (or the leader's renewal) forever.
    public let timeout: Duration
    /// Sent as `?fieldManager=` so the server's managedFields name mcdns.
    public let fieldManager: String

    public init(
        resource: Resource,
        connector: any KubeConnector,
        timeout: Duration = .seconds(10),
        fieldManager: String = "mcdns"
    ) {
        self.resource = resource
        self.connector = connector
        self.timeout = timeout
        self.fieldManager = fieldManager
    }

    public func get(namespace: String, name: String) async throws(KubeAPIError) -> KubeValue {
        try await send("GET", resource.path(namespace: namespace, name: name), body: nil)
    }

    /// POST: 201 with the stored object; `.alreadyExists` when the name is taken.
    public func create(namespace: String, _ object: KubeValue) async throws(KubeAPIError) -> KubeValue {
        try await send("POST", resource.path(namespace: namespace) + managerQuery, body: object)
    }

    /// PUT of the whole object; its `metadata.resourceVersion` is the precondition.
    public func update(
        namespace: String,
        name: String,
        _ object: KubeValue
    ) async throws(KubeAPIError)
        -> KubeValue
    {
        try await send("PUT", resource.path(namespace: namespace, name: name) + managerQuery, body: object)
    }

    /// PUT of the `/status` subresource: the server takes only `status` from `object`.
    public func updateStatus(
        namespace: String,
        name: String,
        _ object: KubeValue
    ) async throws(KubeAPIError)
        -> KubeValue
    {
        try await send(
            "PUT",
            resource.path(namespace: namespace, name: name) + "/status" + managerQuery,
            body: object
        )
    }

    /// PATCH with a strategic merge patch (client-go's event recorder updates an event's count this way; for
    /// types without patch strategies it merges as a JSON merge patch does).
    public func patch(namespace: String, name: String, _ patch: KubeValue) async throws(KubeAPIError) -> KubeValue {
        try await send(
            "PATCH", resource.path(namespace: namespace, name: name) + managerQuery, body: patch,
            contentType: "application/strategic-merge-patch+json"
        )
    }

    /// DELETE, only if the object is still at `resourceVersion` when one is given (else `.conflict`).
    public func delete(namespace: String, name: String, resourceVersion: String? = nil) async throws(KubeAPIError) {
        var body: KubeValue?
        if let resourceVersion {
            body = [
                "kind": "DeleteOptions", "apiVersion": "v1",
                "preconditions": ["resourceVersion": KubeValue(.string(resourceVersion))],
            ]
        }
        _ = try await send("DELETE", resource.path(namespace: namespace, name: name), body: body)
    }

    private var managerQuery: String { "?fieldManager=\(fieldManager)" }

    private func send(
        _ method: String,
        _ path: String,
        body: KubeValue?,
        contentType: String = "application/json"
    ) async throws(KubeAPIError) -> KubeValue {
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        if body != nil { headers.append(("Content-Type", contentType)) }
        let request = KubeRequest(
            method: method,
            path: path,
            headers: headers,
            body: body?.jsonBytes(),
            timeout: timeout
        )
        let status: Int
        let bytes: [UInt8]
        do {
            let response = try await connector.execute(request)
            status = response.status
            bytes = try await Self.collect(response.body, limit: 16 << 20)
        } catch let error as KubeClientError {
            throw .invalidResponse(error.description)
        } catch {
            throw .transport("\(method) \(path): \(error)")
        }
        let object: [String: KubeValue]
        do throws(KubeJSONError) {
            object = try KubeJSON.fields(bytes)
        } catch {
            if (200..<300).contains(status) { throw .invalidResponse("\(method) \(path): \(error)") }
            throw .status(
                code: status,
                KubeStatus(code: status, message: String(decoding: bytes.prefix(200), as: UTF8.self))
            )
        }
        guard (200..<300).contains(status) else {
            var kubeStatus = KubeStatus(fields: object)
            if kubeStatus.code == nil { kubeStatus.code = status }
            switch (status, kubeStatus.reason) {
            case (409, "AlreadyExists"): throw .alreadyExists(kubeStatus)
            case (409, _): throw .conflict(kubeStatus)
            case (404, _): throw .notFound(kubeStatus)
            default: throw .status(code: status, kubeStatus)
            }
        }
        var trimmed = object
        if case .object(var metadata)? = trimmed["metadata"]?.content, metadata["managedFields"] != nil {
            metadata["managedFields"] = nil
            trimmed["metadata"] = KubeValue(.object(metadata))
        }
        return KubeValue(.object(trimmed))
    }

    private static func collect(_ body: AsyncThrowingStream<ByteBuffer, any Error>, limit: Int) async throws -> [UInt8]
    {
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.readableBytes <= limit else {
                throw KubeClientError.protocolViolation("response body larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }
}
