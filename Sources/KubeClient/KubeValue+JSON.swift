import Foundation

extension KubeValue {
    /// Reads the value `JSONSerialization.jsonObject(with:)` (or Yams' `load`) returns.
    ///
    /// Foundation boxes JSON numbers and booleans alike in `NSNumber`; the boxed type code tells them apart, so
    /// `true` does not become `1` and `80` does not become `true`.
    public init(jsonObject: Any) throws(KubeDecodingError) {
        self = try Self.convert(jsonObject, path: "")
    }

    private static func convert(_ value: Any, path: String) throws(KubeDecodingError) -> KubeValue {
        let type = Swift.type(of: value)
        if type == Bool.self, let bool = value as? Bool { return KubeValue(.bool(bool)) }
        if type == Int.self, let int = value as? Int { return KubeValue(.int(int)) }
        if type == Double.self, let double = value as? Double { return KubeValue(.double(double)) }
        if type == String.self, let string = value as? String { return KubeValue(.string(string)) }
        switch value {
        case is NSNull:
            return KubeValue(.null)
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": return KubeValue(.bool(number.boolValue))
            case "f", "d": return KubeValue(.double(number.doubleValue))
            default: return KubeValue(.int(number.intValue))
            }
        case let string as String:
            return KubeValue(.string(string))
        case let date as Date:
            // Yams turns unquoted timestamps into dates; Kubernetes fields hold them as RFC 3339 strings.
            return KubeValue(.string(date.formatted(.iso8601)))
        case let array as [Any]:
            var items: [KubeValue] = []
            items.reserveCapacity(array.count)
            for (index, item) in array.enumerated() {
                items.append(try convert(item, path: "\(path)[\(index)]"))
            }
            return KubeValue(.array(items))
        case let object as [String: Any]:
            var fields: [String: KubeValue] = [:]
            for (key, item) in object {
                fields[key] = try convert(item, path: path.isEmpty ? key : "\(path).\(key)")
            }
            return KubeValue(.object(fields))
        case let object as [AnyHashable: Any]:
            var fields: [String: KubeValue] = [:]
            for (key, item) in object {
                guard let name = key.base as? String else {
                    throw KubeDecodingError(
                        path: path,
                        line: nil,
                        problem: .wrongType(
                            expected: "string keys",
                            found: "key \(key.base)"
                        )
                    )
                }
                fields[name] = try convert(item, path: path.isEmpty ? name : "\(path).\(name)")
            }
            return KubeValue(.object(fields))
        default:
            throw KubeDecodingError(
                path: path,
                line: nil,
                problem: .wrongType(
                    expected: "a JSON value",
                    found: "\(Swift.type(of: value))"
                )
            )
        }
    }
}

extension KubeValue {
    /// The value as `JSONSerialization` writes it (the inverse of `init(jsonObject:)`).
    public var jsonObject: Any {
        switch content {
        case .null: return NSNull()
        case .bool(let value): return value
        case .int(let value): return value
        case .double(let value): return value
        case .string(let value): return value
        case .array(let items): return items.map(\.jsonObject)
        case .object(let fields): return fields.mapValues(\.jsonObject)
        }
    }

    /// The value as compact JSON with sorted keys (stable bytes for equal values).
    public func jsonBytes() -> [UInt8] {
        let data =
            (try? JSONSerialization.data(
                withJSONObject: jsonObject,
                options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]
            )) ?? Data("null".utf8)
        return Array(data)
    }

    /// The member `key` of an object value, nil otherwise.
    public subscript(key: String) -> KubeValue? {
        guard case .object(let fields) = content else { return nil }
        return fields[key]
    }

    /// A copy with the member `key` of an object value set (nil removes it); other values are returned unchanged.
    public func setting(_ key: String, _ value: KubeValue?) -> KubeValue {
        guard case .object(var fields) = content else { return self }
        fields[key] = value
        return KubeValue(.object(fields), line: line)
    }

    /// The value without source lines, so values parsed from YAML and from JSON compare equal.
    public var withoutLines: KubeValue {
        switch content {
        case .array(let items): return KubeValue(.array(items.map(\.withoutLines)))
        case .object(let fields): return KubeValue(.object(fields.mapValues(\.withoutLines)))
        default: return KubeValue(content)
        }
    }
}
