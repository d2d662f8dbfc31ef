/// How a service's answers spread over its healthy clusters within one level of names (global, region, zone):
/// README, "Traffic policies". Set per service by the annotation `mcdns.io/traffic-policy` or a ServiceDNSRecord's
/// `spec.trafficPolicy`, both in the text form `description` writes and `init(parsing:)` reads:
///
/// - `nearest`: every healthy cluster answers, a known requester's nearest first (DESIGN §4.3). The default.
/// - `weighted: us-east-1=70, eu-west-1=30`: every healthy cluster answers; over many queries a cluster's
///   addresses come first in the share its weight has among the healthy clusters' weights. A key names a cluster
///   or a region (a cluster's own weight wins; a region's weight is split evenly among its healthy clusters); a
///   cluster no key names weighs 0 (it answers, never first, unless every healthy cluster weighs 0).
/// - `failover: eu-west-1, us-east-1`: tiers in order, each a cluster or a region; only the first tier with a healthy
///   cluster answers. Clusters no tier names form a last tier.
///
/// Any strategy may end with `; answers: N` (N ≥ 1): each A and AAAA answer of the service's federation names
/// then holds only the first N records of the order it would otherwise be served in (`answers: 1`: one address,
/// whose cluster follows the weights, the failover tier or the rotation). Absent: every healthy target. `answers: N`
/// alone means `nearest; answers: N`.
public struct TrafficPolicy: Hashable, Sendable, CustomStringConvertible {
    /// Who answers and who comes first.
    public enum Strategy: Hashable, Sendable {
        case nearest
        /// Weights by cluster or region name, in the order written.
        case weighted([Weight])
        /// Tiers by cluster or region name, first preferred.
        case failover([String])
    }

    public var strategy: Strategy
    /// How many records of each A or AAAA RRset an answer holds (`1...maxAnswers`); nil: all of them.
    public var answers: Int?

    public init(_ strategy: Strategy, answers: Int? = nil) {
        self.strategy = strategy
        self.answers = answers
    }

    public static let nearest = TrafficPolicy(.nearest)
    public static func weighted(_ weights: [Weight], answers: Int? = nil) -> TrafficPolicy {
        TrafficPolicy(.weighted(weights), answers: answers)
    }
    public static func failover(_ tiers: [String], answers: Int? = nil) -> TrafficPolicy {
        TrafficPolicy(.failover(tiers), answers: answers)
    }

    public struct Weight: Hashable, Sendable {
        public var key: String
        public var weight: UInt32

        public init(key: String, weight: UInt32) {
            self.key = key
            self.weight = weight
        }
    }

    /// The largest weight: shares are computed in 32 bits with room for a thousand clusters.
    public static let maxWeight: UInt32 = 1_000_000
    /// The largest `answers`: an answer of more addresses than this is no longer a choice among them.
    public static let maxAnswers = 1_000

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case unknownStrategy(String)
        case malformed(String)

        public var description: String {
            switch self {
            case .unknownStrategy(let text):
                return "unknown strategy \"\(text)\": use nearest, weighted: KEY=WEIGHT, … or failover: KEY, …"
            case .malformed(let message): return message
            }
        }
    }

    /// Reads the text form (`nearest`, `weighted: a=70, b=30`, `failover: a, b`, each optionally followed by
    /// `; answers: N`); keys are cluster or region names.
    public init(parsing text: String) throws(ParseError) {
        let clauses = text.split(separator: ";", omittingEmptySubsequences: false).map { Self.trim($0) }
        var strategy: Strategy? = nil
        var answers: Int? = nil
        for clause in clauses {
            let head = clause.firstIndex(of: ":").map { Self.trim(clause[..<$0]) } ?? clause
            if head.lowercased() == "answers" {
                guard answers == nil else { throw .malformed("answers is given twice") }
                let value = Self.trim(clause[clause.index(after: clause.firstIndex(of: ":")!)...])
                guard let count = Int(value), count >= 1, count <= Self.maxAnswers else {
                    throw .malformed("answers: \"\(value)\" is not a whole number from 1 to \(Self.maxAnswers) "
                        + "(how many addresses each answer holds; leave it out for all of them)")
                }
                answers = count
            } else {
                guard strategy == nil else {
                    throw .malformed(clause.isEmpty ? "an empty clause between semicolons: write STRATEGY; answers: N"
                                                    : "\"\(clause)\": one strategy per policy, then optionally ; answers: N")
                }
                strategy = try Self.strategy(parsing: clause)
            }
        }
        self.init(strategy ?? .nearest, answers: answers)
    }

    private static func strategy(parsing trimmed: Substring) throws(ParseError) -> Strategy {
        let (head, rest): (Substring, Substring?) = {
            guard let colon = trimmed.firstIndex(of: ":") else { return (trimmed, nil) }
            return (Self.trim(trimmed[..<colon]), Self.trim(trimmed[trimmed.index(after: colon)...]))
        }()
        let items = rest.map { $0.split(separator: ",", omittingEmptySubsequences: false).map { Self.trim($0) } } ?? []
        switch head.lowercased() {
        case "nearest":
            guard rest == nil || rest!.isEmpty else { throw .malformed("nearest takes no arguments") }
            return .nearest
        case "weighted":
            guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
                throw .malformed("weighted needs KEY=WEIGHT, … (a cluster or region and a whole number)")
            }
            var weights: [Weight] = []
            for item in items {
                let parts = item.split(separator: "=", maxSplits: 1).map { Self.trim($0) }
                guard parts.count == 2, !parts[0].isEmpty, let weight = UInt32(parts[1]), weight <= Self.maxWeight else {
                    throw .malformed("weighted: \"\(item)\" is not KEY=WEIGHT with a whole weight from 0 to \(Self.maxWeight)")
                }
                guard !weights.contains(where: { $0.key == parts[0] }) else {
                    throw .malformed("weighted: \(parts[0]) is given twice")
                }
                weights.append(Weight(key: String(parts[0]), weight: weight))
            }
            return .weighted(weights)
        case "failover":
            guard !items.isEmpty, !items.contains(where: \.isEmpty) else {
                throw .malformed("failover needs a list of clusters or regions, first preferred: failover: a, b")
            }
            guard Set(items).count == items.count else { throw .malformed("failover: a tier is named twice") }
            return .failover(items.map(String.init))
        default:
            throw .unknownStrategy(String(head))
        }
    }

    private static func trim(_ text: Substring) -> Substring {
        var result = text
        while let first = result.first, first == " " || first == "\t" { result = result.dropFirst() }
        while let last = result.last, last == " " || last == "\t" { result = result.dropLast() }
        return result
    }

    /// The strategy's name, with the answer limit when there is one, as `mcdns records` shows it
    /// (`weighted`, `failover/1`).
    public var summary: String {
        let name: String
        switch strategy {
        case .nearest: name = "nearest"
        case .weighted: name = "weighted"
        case .failover: name = "failover"
        }
        return answers.map { "\(name)/\($0)" } ?? name
    }

    /// The text form `init(parsing:)` reads.
    public var description: String {
        let text: String
        switch strategy {
        case .nearest: text = "nearest"
        case .weighted(let weights): text = "weighted: " + weights.map { "\($0.key)=\($0.weight)" }.joined(separator: ", ")
        case .failover(let tiers): text = "failover: " + tiers.joined(separator: ", ")
        }
        return answers.map { text + "; answers: \($0)" } ?? text
    }
}
