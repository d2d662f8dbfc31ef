/// A DNS response as dig printed it, reduced to what two authoritative servers must agree on.
public struct ResponseSummary: Equatable, Sendable, CustomStringConvertible {
    /// The EDNS OPT record of the response, when it had one.
    public struct EDNS: Equatable, Sendable {
        public var version: Int
        public var udpSize: Int
        /// EDNS flags as dig names them (`do`), sorted and space-separated; empty when none is set.
        public var flags: String
    }

    public var id: UInt16
    public var opcode: String
    /// The RCODE name dig prints (NOERROR, NXDOMAIN, REFUSED, BADVERS…), extended RCODE included.
    public var rcode: String
    /// Header flags as dig names them: qr aa tc rd ra ad cd.
    public var flags: Set<String>
    public var edns: EDNS?
    /// Question lines as printed (name case preserved: the question must be echoed as asked).
    public var question: [String]
    public var answer: [RRset]
    public var authority: [RRset]
    public var additional: [RRset]

    public var qr: Bool { flags.contains("qr") }
    public var aa: Bool { flags.contains("aa") }
    public var tc: Bool { flags.contains("tc") }
    public var rd: Bool { flags.contains("rd") }
    public var ra: Bool { flags.contains("ra") }
    public var ad: Bool { flags.contains("ad") }
    public var cd: Bool { flags.contains("cd") }

    public var description: String {
        var lines = ["rcode \(rcode) opcode \(opcode) flags [\(flags.sorted().joined(separator: " "))]"]
        lines.append("question: \(question.joined(separator: " | "))")
        if let edns {
            lines.append("edns version \(edns.version) udp \(edns.udpSize) flags [\(edns.flags)]")
        } else {
            lines.append("no edns")
        }
        for (title, section) in [("answer", answer), ("authority", authority), ("additional", additional)] {
            lines.append("\(title):")
            lines += section.map { "  " + $0.description.replacingOccurrences(of: "\n", with: "\n  ") }
        }
        return lines.joined(separator: "\n")
    }

    /// Reads dig's default output format (with `+nocmd +nostats`). Throws when the text holds no response or
    /// more than one.
    public static func parse(digOutput text: String) throws(TestSupportError) -> ResponseSummary {
        enum Section { case none, question, answer, authority, additional }
        var header: (opcode: String, rcode: String, id: UInt16)?
        var flags: Set<String> = []
        var edns: EDNS?
        var section = Section.none
        var question: [String] = []
        var records: [Section: [(owner: String, ttl: UInt32, rrClass: String, type: String, rdata: String)]] = [:]

        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty { continue }
            if line.hasPrefix(";; ->>HEADER<<-") {
                guard header == nil else {
                    throw .unparsableOutput("more than one response in dig output", output: text)
                }
                let fields = keyValues(line.dropFirst(";; ->>HEADER<<-".count))
                guard let opcode = fields["opcode"], let rcode = fields["status"],
                    let id = fields["id"].flatMap({ UInt16($0) })
                else { throw .unparsableOutput("cannot read header line: \(line)", output: text) }
                header = (opcode, rcode, id)
                continue
            }
            if line.hasPrefix(";; flags:") {
                let afterFlags = line.dropFirst(";; flags:".count)
                let words = afterFlags.prefix { $0 != ";" }.split(separator: " ")
                flags = Set(words.map { String($0).lowercased() })
                continue
            }
            if line.hasPrefix("; EDNS:") {
                let fields = keyValues(line.dropFirst("; EDNS:".count))
                guard let version = fields["version"].flatMap({ Int($0) }), let udp = fields["udp"].flatMap({ Int($0) })
                else { throw .unparsableOutput("cannot read EDNS line: \(line)", output: text) }
                let ednsFlags =
                    line.range(of: "flags:").map { range in
                        line[range.upperBound...].prefix { $0 != ";" }.split(separator: " ").map(String.init).sorted()
                            .joined(separator: " ")
                    } ?? ""
                edns = EDNS(version: version, udpSize: udp, flags: ednsFlags)
                continue
            }
            if line.hasPrefix(";; ") && line.hasSuffix("SECTION:") {
                switch line {
                case ";; QUESTION SECTION:", ";; ZONE SECTION:": section = .question
                case ";; ANSWER SECTION:", ";; PREREQUISITE SECTION:": section = .answer
                case ";; AUTHORITY SECTION:", ";; UPDATE SECTION:": section = .authority
                case ";; ADDITIONAL SECTION:": section = .additional
                default: section = .none  // the OPT pseudo-section and others carry no RRsets
                }
                continue
            }
            if line.hasPrefix(";") {
                if section == .question { question.append(String(line.dropFirst())) }
                continue
            }
            guard section != .none, section != .question else { continue }
            let fields = line.split(maxSplits: 4, whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 4, let ttl = UInt32(fields[1]) else {
                throw .unparsableOutput("cannot read record line: \(line)", output: text)
            }
            let rdata = fields.count == 5 ? String(fields[4]).trimmingWhitespace() : ""
            records[section, default: []].append((String(fields[0]), ttl, String(fields[2]), String(fields[3]), rdata))
        }
        guard let header else { throw .unparsableOutput("no response header in dig output", output: text) }

        func rrsets(_ section: Section) -> [RRset] {
            var grouped:
                [String: (first: Int, owner: String, ttl: UInt32, rrClass: String, type: String, rdata: [String])] =
                    [:]
            for (index, record) in (records[section] ?? []).enumerated() {
                let key = "\(record.owner.lowercased()) \(record.rrClass) \(record.type)"
                if grouped[key] == nil {
                    grouped[key] = (index, record.owner, record.ttl, record.rrClass, record.type, [])
                }
                // An RRset has one TTL (RFC 2181 §5.2); keep the lowest if a server ever mixes them.
                grouped[key]!.ttl = min(grouped[key]!.ttl, record.ttl)
                grouped[key]!.rdata.append(record.rdata)
            }
            return grouped.values.map {
                RRset(owner: $0.owner, ttl: $0.ttl, rrClass: $0.rrClass, type: $0.type, rdata: $0.rdata)
            }.sorted()
        }
        return ResponseSummary(
            id: header.id,
            opcode: header.opcode,
            rcode: header.rcode,
            flags: flags,
            edns: edns,
            question: question.map { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ") },
            answer: rrsets(.answer),
            authority: rrsets(.authority),
            additional: rrsets(.additional)
        )
    }

    /// `opcode: QUERY, status: NOERROR, id: 7` → ["opcode": "QUERY", "status": "NOERROR", "id": "7"].
    private static func keyValues(_ text: Substring) -> [String: String] {
        var result: [String: String] = [:]
        for part in text.split(separator: ",") {
            let pieces = part.split(separator: ":", maxSplits: 1)
            guard pieces.count == 2 else { continue }
            let key = String(pieces[0]).trimmingWhitespace()
            let value = pieces[1].split(separator: ";").first.map { String($0).trimmingWhitespace() } ?? ""
            result[key] = value
        }
        // "flags:; udp: 1232" keeps udp after a semicolon: read it separately.
        if let range = text.range(of: "udp:") {
            result["udp"] = String(text[range.upperBound...]).trimmingWhitespace().split(separator: " ").first.map(
                String.init
            )
        }
        return result
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        let trimmed = drop(while: { $0 == " " || $0 == "\t" || $0 == "\r" })
        var end = trimmed.endIndex
        while end > trimmed.startIndex {
            let before = trimmed.index(before: end)
            guard trimmed[before] == " " || trimmed[before] == "\t" || trimmed[before] == "\r" else { break }
            end = before
        }
        return String(trimmed[trimmed.startIndex..<end])
    }
}
