import Foundation
import MCDNSModel
import Testing

/// `Condition.Status` is Kubernetes' condition status: the JSON of records, state files and the admin API keeps
/// the strings Kubernetes writes, and nothing else decodes.
@Suite struct ConditionStatusTests {
    @Test(arguments: [(Condition.Status.true, "True"), (.false, "False"), (.unknown, "Unknown")])
    func encodesAsKubernetesSpellsIt(status: Condition.Status, text: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try encoder.encode(Condition(type: "Ready", status: status, reason: "EndpointsReady", message: "ok"))
        let expected = #"{"message":"ok","reason":"EndpointsReady","status":"\#(text)","type":"Ready"}"#
        #expect(String(decoding: json, as: UTF8.self) == expected)
        let decoded = try JSONDecoder().decode(Condition.self, from: json)
        #expect(decoded.status == status)
    }

    /// The API server refuses any other status (metav1.Condition validation, the CRD's enum); so does decoding,
    /// naming the value, rather than reading "true" or "Yes" as some status it is not.
    @Test(arguments: ["true", "TRUE", "Yes", "", "Unknown "])
    func refusesAnyOtherString(text: String) {
        let json = Data(#"{"type":"Ready","status":"\#(text)","reason":"r","message":""}"#.utf8)
        #expect {
            try JSONDecoder().decode(Condition.self, from: json)
        } throws: { error in
            guard case DecodingError.dataCorrupted(let context) = error else { return false }
            return context.debugDescription.contains("\"\(text)\" is not one of True, False, Unknown")
        }
    }

    @Test func readsABool() {
        #expect(Condition.Status(true) == .true && Condition.Status(false) == .false)
    }
}
