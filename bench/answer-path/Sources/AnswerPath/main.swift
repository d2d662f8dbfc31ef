import DNSAnswer
import DNSWire
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

// Usage: AnswerPath ZONEFILE ORIGIN QUERYFILE COUNT
// Compiles the zone, reads "name type" lines, and answers COUNT queries (cycling through the file) through
// AnswerTable.respond as the UDP loop calls it. Run it under callgrind with COUNT and with 0: the difference over
// COUNT is the instructions per query of the answer path (parse, lookup, copy, patch), without the socket calls.
let arguments = CommandLine.arguments
guard arguments.count == 5, let count = Int(arguments[4]) else {
    print("usage: AnswerPath ZONEFILE ORIGIN QUERYFILE COUNT")
    exit(2)
}
let zone = try ZoneFile.load(path: arguments[1], origin: try DomainName(arguments[2]))
let table = try AnswerTable.compile(zones: [zone], serial: 1)
var queries: [[UInt8]] = []
for line in (try String(contentsOfFile: arguments[3], encoding: .utf8)).split(separator: "\n") {
    let fields = line.split(separator: " ")
    guard fields.count >= 2, let type = RRType(mnemonic: String(fields[1])) else { continue }
    queries.append(try Message.query(name: try DomainName(String(fields[0])), type: type))
}
// One flat buffer, as the batch loop has: no per-query array access or reference counting in the harness.
var flat: [UInt8] = []
var spans: [(start: Int, count: Int)] = []
for query in queries {
    spans.append((flat.count, query.count))
    flat += query
}
var output = [UInt8](repeating: 0, count: 4096)
var answered = 0
flat.withUnsafeBytes { input in
    output.withUnsafeMutableBytes { out in
        for i in 0..<count {
            let span = spans[i % spans.count]
            let query = UnsafeRawBufferPointer(rebasing: input[span.start..<(span.start + span.count)])
            if table.respond(to: query, transport: .udp, source: .unknown, into: out) > 0 { answered += 1 }
        }
    }
}
print("answered \(answered) of \(count) queries (\(queries.count) distinct, \(table.nameCount) names)")
