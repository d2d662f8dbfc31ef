import DNSTestSupport

/// Building blocks for deliberate-difference tables: query matchers and checks that keep a relaxed comparison
/// honest.
enum DifferenceRules {
    static func name(_ names: String...) -> @Sendable (DifferentialQuery) -> Bool {
        let wanted = Set(names)
        return { wanted.contains($0.name.lowercased()) }
    }

    static func type(_ types: String...) -> @Sendable (DifferentialQuery) -> Bool {
        let wanted = Set(types)
        return { wanted.contains($0.type) }
    }

    static func option(_ prefix: String) -> @Sendable (DifferentialQuery) -> Bool {
        { $0.options.contains { $0.hasPrefix(prefix) } }
    }

    /// RFC 8482 lets a server answer ANY with any one RRset of the name (and the additional data that goes with
    /// it): both answers must hold exactly one RRset, owned by the query name.
    static let bothAnswerOneRRset: @Sendable (ResponseSummary?, ResponseSummary?) -> String? = { reference, subject in
        for (label, response) in [("reference", reference), ("subject", subject)] {
            guard let response else { return "\(label) sent no response" }
            guard response.answer.count == 1 else {
                return "\(label) answered ANY with \(response.answer.count) RRsets"
            }
        }
        return nil
    }

    /// The subject's additional section holds only records the reference also gave (it may give fewer).
    static let additionalIsSubset: @Sendable (ResponseSummary?, ResponseSummary?) -> String? = { reference, subject in
        guard let reference, let subject else { return "a response is missing" }
        let extra = Set(subject.additional).subtracting(reference.additional)
        return extra.isEmpty ? nil : "additional records the reference did not give: \(extra.sorted())"
    }

    /// The reference's answer is a prefix of the subject's chain: the subject followed the CNAME further.
    static let answerExtendsReference: @Sendable (ResponseSummary?, ResponseSummary?) -> String? = {
        reference,
        subject in
        guard let reference, let subject else { return "a response is missing" }
        let missing = Set(reference.answer).subtracting(subject.answer)
        return missing.isEmpty ? nil : "reference answer records missing from the subject: \(missing.sorted())"
    }
}
