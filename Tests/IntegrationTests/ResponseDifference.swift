import DNSTestSupport

/// The parts of a response the differential test compares; a deliberate difference names the ones it allows.
enum ResponseAspect: String, Sendable, CaseIterable {
    case noResponse, rcode, opcode, aa, tc, qr, rd, ra, ad, cd, edns, question, answer, authority, additional
}

/// How a response from the server under test differs from the reference server's.
struct ResponseDifference: Sendable, CustomStringConvertible {
    var aspects: Set<ResponseAspect>
    var reference: ResponseSummary?
    var subject: ResponseSummary?

    static func between(reference: ResponseSummary?, subject: ResponseSummary?) -> ResponseDifference {
        var aspects: Set<ResponseAspect> = []
        guard let reference, let subject else {
            if (reference == nil) != (subject == nil) { aspects.insert(.noResponse) }
            return ResponseDifference(aspects: aspects, reference: reference, subject: subject)
        }
        if reference.rcode != subject.rcode { aspects.insert(.rcode) }
        if reference.opcode != subject.opcode { aspects.insert(.opcode) }
        let flagAspects: [(KeyPath<ResponseSummary, Bool>, ResponseAspect)] = [
            (\.aa, .aa), (\.tc, .tc), (\.qr, .qr), (\.rd, .rd), (\.ra, .ra), (\.ad, .ad), (\.cd, .cd),
        ]
        for (flag, aspect) in flagAspects where reference[keyPath: flag] != subject[keyPath: flag] {
            aspects.insert(aspect)
        }
        if reference.edns != subject.edns { aspects.insert(.edns) }
        // The question must be echoed byte for byte, so case matters here.
        if reference.question != subject.question { aspects.insert(.question) }
        if reference.answer != subject.answer { aspects.insert(.answer) }
        if reference.authority != subject.authority { aspects.insert(.authority) }
        if reference.additional != subject.additional { aspects.insert(.additional) }
        return ResponseDifference(aspects: aspects, reference: reference, subject: subject)
    }

    var isEmpty: Bool { aspects.isEmpty }

    var description: String {
        let names = aspects.map(\.rawValue).sorted().joined(separator: ", ")
        return """
            differs in: \(names)
            --- reference ---
            \(reference.map(\.description) ?? "(no response)")
            --- subject ---
            \(subject.map(\.description) ?? "(no response)")
            """
    }
}

/// A difference between two servers that the test accepts, with the reason. `matches` picks the queries it
/// covers; `allowed` is what may differ for them; `check` asserts what must still hold (nil when nothing beyond
/// the allowed aspects is relaxed).
struct DeliberateDifference: Sendable {
    var id: String
    var reason: String
    var matches: @Sendable (DifferentialQuery) -> Bool
    var allowed: Set<ResponseAspect>
    var check: (@Sendable (_ reference: ResponseSummary?, _ subject: ResponseSummary?) -> String?)? = nil
}

/// The outcome of one query against both servers.
struct DifferentialOutcome: Sendable {
    var query: DifferentialQuery
    var difference: ResponseDifference
    /// The deliberate difference that explains it, when one does.
    var excusedBy: String?
    /// Why the outcome fails the test, or nil when it passes.
    var failure: String?
}

enum DifferentialComparison {
    /// Compares one query's responses; a difference passes only when a table entry matches the query, allows every
    /// differing aspect, and its check (if any) holds. Entries are tried in order; the first that excuses wins.
    static func judge(
        _ query: DifferentialQuery,
        reference: ResponseSummary?,
        subject: ResponseSummary?,
        table: [DeliberateDifference]
    ) -> DifferentialOutcome {
        let difference = ResponseDifference.between(reference: reference, subject: subject)
        if difference.isEmpty {
            return DifferentialOutcome(query: query, difference: difference, excusedBy: nil, failure: nil)
        }
        var failedChecks: [String] = []
        for entry in table where entry.matches(query) && difference.aspects.isSubset(of: entry.allowed) {
            if let problem = entry.check?(reference, subject) {
                failedChecks.append("\(entry.id): \(problem)")
                continue
            }
            return DifferentialOutcome(query: query, difference: difference, excusedBy: entry.id, failure: nil)
        }
        if !failedChecks.isEmpty {
            return DifferentialOutcome(
                query: query,
                difference: difference,
                excusedBy: nil,
                failure: "\(query)\nnot excused: \(failedChecks.joined(separator: "; "))\n\(difference)"
            )
        }
        return DifferentialOutcome(
            query: query,
            difference: difference,
            excusedBy: nil,
            failure: "\(query)\n\(difference)"
        )
    }

    /// Sends every query to both servers, one at a time, and judges each pair of responses. One at a time: with
    /// several `dig`s started from parallel threads, swift-corelibs-foundation's `Process.run()` crashed now and
    /// then (a read past a buffer inside it), even with the starts themselves serialised.
    static func run(
        _ queries: [DifferentialQuery],
        reference: Dig,
        subject: Dig,
        table: [DeliberateDifference]
    ) -> [DifferentialOutcome] {
        queries.parallelMap(width: 1) { query in
            do {
                var referenceResponse = try reference.query(
                    query.name,
                    query.type,
                    options: query.options,
                    qclass: query.qclass
                )
                var subjectResponse = try subject.query(
                    query.name,
                    query.type,
                    options: query.options,
                    qclass: query.qclass
                )
                // One lost UDP datagram on a loaded machine is not a server difference: ask both once more.
                if (referenceResponse == nil) != (subjectResponse == nil) {
                    referenceResponse = try reference.query(
                        query.name,
                        query.type,
                        options: query.options,
                        qclass: query.qclass
                    )
                    subjectResponse = try subject.query(
                        query.name,
                        query.type,
                        options: query.options,
                        qclass: query.qclass
                    )
                }
                return judge(query, reference: referenceResponse, subject: subjectResponse, table: table)
            } catch {
                return DifferentialOutcome(
                    query: query,
                    difference: ResponseDifference(aspects: [], reference: nil, subject: nil),
                    excusedBy: nil,
                    failure: "\(query)\ndig failed: \(error)"
                )
            }
        }
    }
}
