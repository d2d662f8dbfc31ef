/// The output of `kubectl kustomize` for one base: the text and its decoded documents.
struct RenderedManifests {
    let base: String
    let yaml: String
    let documents: [YAMLNode]

    func objects(kind: String) -> [YAMLNode] { documents.filter { $0["kind"].string == kind } }

    func object(kind: String, name: String) -> YAMLNode? {
        objects(kind: kind).first { $0["metadata"]["name"].string == name }
    }

    /// A ConfigMap found by the name its generator was given (the rendered name carries a content hash).
    func generatedConfigMap(_ name: String) -> YAMLNode? {
        objects(kind: "ConfigMap").first {
            guard let rendered = $0["metadata"]["name"].string else { return false }
            return rendered == name || (rendered.hasPrefix(name + "-") && rendered.count == name.count + 11)
        }
    }

    /// "Kind/name" of every document, for messages.
    var summary: [String] {
        documents.map { "\($0["kind"].string ?? "?")/\($0["metadata"]["name"].string ?? "?")" }
    }
}
