import Foundation
import Testing

@testable import KubeClient

/// `KubeJSONParser` against Foundation's `JSONSerialization` (the path it replaced for list pages and watch
/// events): the same trees for valid JSON, a clear error and no crash for invalid JSON.
@Suite struct KubeJSONParserTests {
    /// A list page as an API server sends it (shape of the recorded transcripts: no kind on items,
    /// managedFields, annotations with escapes, dual-stack IPs, numbers of every kind).
    static let servicePage = #"""
        {"kind":"ServiceList","apiVersion":"v1","metadata":{"resourceVersion":"48213","continue":""},
         "items":[{"metadata":{"name":"web","namespace":"shop","uid":"0b9e3a4c-1f7b-4c53-9d2f-6a1f0e2c3d4e",
          "resourceVersion":"48190","creationTimestamp":"2026-11-27T09:00:00Z",
          "labels":{"app.kubernetes.io/name":"web"},
          "annotations":{"mcdns.io/export":"true","note":"quote \" backslash \\ slash \/ tab \t newline \n",
                         "unicode":"caf\u00e9 \ud83d\ude80 日本","kubectl.kubernetes.io/last-applied-configuration":"{\"a\":1}\n"},
          "managedFields":[{"manager":"kubectl","operation":"Update","apiVersion":"v1","time":"2026-11-27T09:00:00Z",
                            "fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:ports":{}}}}]},
          "spec":{"type":"ClusterIP","clusterIP":"10.96.0.10","clusterIPs":["10.96.0.10","fd00::a"],
                  "ipFamilies":["IPv4","IPv6"],"ports":[{"name":"http","protocol":"TCP","port":80,"targetPort":8080}],
                  "sessionAffinity":"None","publishNotReadyAddresses":false,"internalTrafficPolicy":null},
          "status":{"loadBalancer":{}}}],
         "numbers":[0,-1,9223372036854775807,1.5,-0.25,1e3,2E-2,6.02e+23,123456789012345678901234]}
        """#

    static func foundation(_ text: String) throws -> KubeValue {
        try KubeValue(jsonObject: try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]))
    }

    @Test func sameTreeAsFoundationForAListPage() throws {
        let parsed = try KubeJSONParser.parse(Array(Self.servicePage.utf8))
        #expect(parsed == (try Self.foundation(Self.servicePage)))
        guard case .object(let page) = parsed.content, case .array(let items)? = page["items"]?.content,
            case .object(let item) = items.first?.content, case .object(let metadata)? = item["metadata"]?.content,
            case .object(let annotations)? = metadata["annotations"]?.content
        else {
            Issue.record("unexpected shape: \(parsed)")
            return
        }
        #expect(annotations["unicode"] == "café 🚀 日本")
        #expect(annotations["note"] == "quote \" backslash \\ slash / tab \t newline \n")
    }

    @Test(arguments: [
        "0", "-0", "12", "-12", "1.25", "1e2", "1E+2", "1e-2", "true", "false", "null", "\"\"", "[]", "{}",
        "[1,[2,[3,{}]]]", " {\"a\" : [ true , false , null ] } ", "\"\\u0000\"", "\"\\uFFFF\"", "[1.0]",
        "9223372036854775807",
    ])
    func scalarsAndNestingMatchFoundation(text: String) throws {
        #expect(try KubeJSONParser.parse(Array(text.utf8)) == (try Self.foundation(text)))
    }

    @Test func numbersAreExact() throws {
        for text in ["12.345678901234567", "123456.78901234567", "0.1", "6.02e23", "-2.5e-300", "1.7976931348623157e308"] {
            #expect(try KubeJSONParser.parse(Array(text.utf8)) == KubeValue(.double(Double(text)!)), "\(text)")
        }
        #expect(throws: KubeJSONError.self) { try KubeJSONParser.parse(Array("1e400".utf8)) }
    }

    /// Integers that fit `Int` stay integers, also `Int.min` (Foundation makes that one a double); larger
    /// ones become doubles rather than failing.
    @Test func integerRange() throws {
        #expect(try KubeJSONParser.parse(Array("-9223372036854775808".utf8)) == KubeValue(.int(Int.min)))
        #expect(try KubeJSONParser.parse(Array("9223372036854775808".utf8)) == KubeValue(.double(9223372036854775808)))
        #expect(try KubeJSONParser.parse(Array("[80, 8080.0]".utf8)) == KubeValue(.array([KubeValue(.int(80)), KubeValue(.double(8080))])))
    }

    @Test(arguments: [
        "", " ", "{", "[", "[1,", "{\"a\"", "{\"a\":", "{\"a\":1,}", "[1,]", "[1 2]", "{a:1}", "{\"a\" 1}",
        "\"abc", "\"a\u{01}b\"", "\"\\x\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud800\"", "\"\\ud800\\u0041\"",
        "\"\\udc00\"", "01", "-", "1.", ".5", "1e", "1e+", "+1", "NaN", "Infinity", "tru", "nul", "falsey",
        "{} {}", "[]x", "\u{FEFF}{}",
    ])
    func invalidJSONIsAnErrorNotACrash(text: String) {
        #expect(throws: KubeJSONError.self) { try KubeJSONParser.parse(Array(text.utf8)) }
    }

    @Test func deepNestingIsRefusedWithoutExhaustingTheStack() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: KubeJSONError.self) { try KubeJSONParser.parse(Array(deep.utf8)) }
        let fine = String(repeating: "[", count: KubeJSONParser.maximumDepth) + String(repeating: "]", count: KubeJSONParser.maximumDepth)
        #expect((try? KubeJSONParser.parse(Array(fine.utf8))) != nil)
    }

    /// Random byte edits of a valid page: never a crash, and whenever both parsers accept the result, the same tree.
    /// Edits stay before the `numbers` array: there Foundation is the one that is wrong (it wraps integers past
    /// Int.max around and rounds some decimals off by an ulp; `numbersAreExact` checks ours).
    /// CPU-bound: it yields now and then so that, in a parallel run on two cores, the async tests that wait on
    /// timeouts are not starved of the cooperative pool's threads.
    @Test func mutatedPagesNeverCrashAndAgreeWithFoundation() async throws {
        var generator = SplitMix(seed: 0x6d63_646e_735f_6a73)
        let original = Array(Self.servicePage.utf8)
        let editable = Self.servicePage.utf8.count - Self.servicePage.split(separator: "\"numbers\"").last!.utf8.count
        let alphabet = Array("{}[]\":,\\ 0123456789.eE+-tfnaulrsu".utf8)
        var bothAccepted = 0
        for iteration in 0..<3_000 {
            if iteration % 20 == 0 { await Task.yield() }
            var bytes = original
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let position = Int.random(in: 0..<min(editable, bytes.count), using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes[position] = alphabet.randomElement(using: &generator)!
                case 1: bytes.remove(at: position)
                default: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
                }
            }
            let ours = try? KubeJSONParser.parse(bytes)
            let theirs = try? KubeValue(jsonObject: JSONSerialization.jsonObject(with: Data(bytes), options: []))
            if let ours, let theirs {
                bothAccepted += 1
                #expect(ours == theirs, "\(Self.firstDifference(ours, theirs) ?? "?") in \(String(decoding: bytes, as: UTF8.self))")
            }
        }
        // Edits inside strings keep the JSON valid: the comparison above must have had material.
        #expect(bothAccepted > 100)
    }

    /// Where two trees first differ, for a readable failure.
    static func firstDifference(_ a: KubeValue, _ b: KubeValue, path: String = "$") -> String? {
        switch (a.content, b.content) {
        case (.object(let x), .object(let y)):
            for key in Set(x.keys).union(y.keys).sorted() {
                guard let xv = x[key], let yv = y[key] else { return "\(path).\(key) present on one side only" }
                if let found = firstDifference(xv, yv, path: "\(path).\(key)") { return found }
            }
            return nil
        case (.array(let x), .array(let y)):
            guard x.count == y.count else { return "\(path): \(x.count) vs \(y.count) items" }
            for (index, pair) in zip(x, y).enumerated() {
                if let found = firstDifference(pair.0, pair.1, path: "\(path)[\(index)]") { return found }
            }
            return nil
        default:
            return a == b ? nil : "\(path): \(a.content) vs \(b.content)"
        }
    }

    @Test func watchEventsDecodeThroughTheParser() throws {
        let line = Array(#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old resource version: 1 (48213)","reason":"Expired","code":410,"details":{"causes":[{"reason":"ResourceVersionTooLarge"}],"retryAfterSeconds":3}}}"#.utf8)
        guard case .error(let status) = try WatchEvent.decode(line: line, kind: .service) else {
            Issue.record("not an ERROR event")
            return
        }
        #expect(status.code == 410 && status.isExpired && status.isTooLargeResourceVersion)
        #expect(status.retryAfterSeconds == 3)
        #expect(throws: KubeJSONError.self) { try WatchEvent.decode(line: Array("{\"type\":".utf8), kind: .service) }
    }
}

/// A small deterministic generator, so a failing mutation can be reproduced.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
