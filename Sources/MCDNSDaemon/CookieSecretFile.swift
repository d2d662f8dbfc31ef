import DNSAnswer
import Foundation

/// Reads `dns.cookies.secretFile`: one or two lines of 32 hex digits (RFC 9018 writes a secret so:
/// `e5e973e5a6b2a43f48e7dc849e37bfcf`). Cookies are made with the first; those made with the second are accepted
/// too, so an operator rolls a secret by writing the new one above the old one on every server. Empty lines and
/// lines starting with `#` are skipped. The secret itself never appears in a message.
enum CookieSecretFile {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func read(_ path: String) -> Result<CookieKeyring, Problem> {
        let text: String
        do {
            text = try FileSystem.readText(path)
        } catch {
            return .failure(Problem(description: "\(path) cannot be read: \(error.localizedDescription)"))
        }
        var secrets: [CookieSecret] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let secret = CookieSecret(hex: trimmed) else {
                return .failure(Problem(description:
                    "\(path) line \(number + 1) is not a secret: write 32 hex digits (16 random bytes), e.g. the output of `openssl rand -hex 16`"))
            }
            secrets.append(secret)
        }
        guard (1...2).contains(secrets.count) else {
            return .failure(Problem(description:
                "\(path) holds \(secrets.count) secrets; write one line of 32 hex digits (`openssl rand -hex 16`), or two while rolling to a new one"))
        }
        return .success(.fixed(current: secrets[0], previous: secrets.count > 1 ? secrets[1] : nil))
    }
}
