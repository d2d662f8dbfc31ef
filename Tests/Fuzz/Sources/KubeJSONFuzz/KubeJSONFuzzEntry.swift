@testable import KubeClient

/// The Kubernetes JSON decoder: `KubeJSONParser` on a list page or watch event body, then the slim projections
/// (Service, EndpointSlice, Node, ServiceExport, ServiceDNSRecord) as the list and watch paths decode them.
///
/// Properties: bad JSON is a typed `KubeJSONError`; a parsed value written back as JSON (`jsonBytes`) parses to
/// the same value (numbers compared by value: `1.0` is written as `1` and read back as an integer), and then
/// decodes to the same objects; a bad object is a typed error or a `.malformed` event, never a trap.
enum KubeJSONFuzzEntry {
    static func check(_ input: [UInt8]) -> String? {
        let value: KubeValue
        do {
            value = try KubeJSONParser.parse(input)
        } catch {
            return nil
        }
        let encoded = value.jsonBytes()
        let again: KubeValue
        do {
            again = try KubeJSONParser.parse(encoded)
        } catch {
            return
                "parsed JSON written back does not parse: \(error); written: \(String(decoding: encoded, as: UTF8.self))"
        }
        guard normalized(again) == normalized(value) else {
            return "parse-write-parse changed the value; written: \(String(decoding: encoded, as: UTF8.self))"
        }
        let exact = again == value
        guard case .object(let fields) = value.content, case .object(let againFields) = again.content else {
            return nil
        }
        // A list page: each item decodes as the list's kind. A watch event or one object: the whole body.
        var objects: [[String: KubeValue]] = [fields]
        var againObjects: [[String: KubeValue]] = [againFields]
        if case .array(let items)? = fields["items"]?.content,
            case .array(let againItems)? = againFields["items"]?.content
        {
            objects += items.compactMap { if case .object(let item) = $0.content { item } else { nil } }
            againObjects += againItems.compactMap { if case .object(let item) = $0.content { item } else { nil } }
        }
        for kind in KubeObjectKind.allCases {
            for (object, againObject) in zip(objects, againObjects) {
                let first = Result { () throws(KubeJSONError) in try KubeJSON.decode(fields: object, as: kind) }
                let second = Result { () throws(KubeJSONError) in try KubeJSON.decode(fields: againObject, as: kind) }
                if exact, first != second { return "the same \(kind) decoded twice gave different results" }
            }
            let event = Result { () throws(KubeJSONError) in try WatchEvent.decode(line: input, kind: kind) }
            let againEvent = Result { () throws(KubeJSONError) in try WatchEvent.decode(line: encoded, kind: kind) }
            if exact, event != againEvent { return "a watch event of \(kind) decoded differently once written back" }
        }
        _ = try? KubeDocument.decode(value)
        return nil
    }

    /// The value with every integral double inside Int's range as an integer: JSON does not tell `1.0` from `1`.
    static func normalized(_ value: KubeValue) -> KubeValue {
        switch value.content {
        case .double(let number):
            if number.rounded() == number, let integer = Int(exactly: number) { return KubeValue(.int(integer)) }
            return KubeValue(.double(number))
        case .array(let items): return KubeValue(.array(items.map(normalized)))
        case .object(let fields): return KubeValue(.object(fields.mapValues(normalized)))
        default: return value
        }
    }
}
