import Foundation

/// The apiserver's continue token: unpadded base64url of `{"v":"meta.k8s.io/v1","rv":N,"start":"KEY\u0000"}`
/// (decode any token in transcripts 10–13, 41, 47). `rv` is the snapshot's revision; -1 marks the inconsistent
/// continue a 410 hands back.
struct SimContinueToken: Sendable {
    var revision: Int64
    var start: String

    var encoded: String {
        let json: SimJSON = .object([
            ("v", .string("meta.k8s.io/v1")), ("rv", .number(String(revision))), ("start", .string(start)),
        ])
        return Data(json.text.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String) throws(SimAPIError) -> SimContinueToken {
        var base64 = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let data = Data(base64Encoded: base64),
            let json = try? SimJSON.parse(Array(data)),
            json["v"]?.stringValue == "meta.k8s.io/v1",
            let revisionText = json["rv"], case .number(let number) = revisionText, let revision = Int64(number),
            let start = json["start"]?.stringValue
        else {
            throw SimStatus.badRequest("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        }
        return SimContinueToken(revision: revision, start: start)
    }
}
