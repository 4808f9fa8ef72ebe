import Foundation

/// Removes Tollgate's own credentials from text an IdP wrote (an `error_description` that echoes
/// the request) before it reaches a log or an answer: each secret raw, form-encoded, and inside a
/// Basic header, and any long base64url run (a token or an encoded secret of unknown origin).
package struct SecretScrubber: Sendable {
    static let marker = "<redacted>"
    /// Tokens, signatures and encoded secrets are long; words and error codes are not.
    static let longRunLength = 24

    private let variants: [String]

    /// `secrets` as configured; `basicPairs` the (client id, secret) pairs that may have travelled
    /// in a Basic header (RFC 6749 §2.3.1 form-encodes both before base64).
    package init(secrets: [String], basicPairs: [(String, String)] = []) {
        var variants = Set<String>()
        for secret in secrets where !secret.isEmpty {
            variants.insert(secret)
            variants.insert(FormEncoding.encode(secret))
            variants.insert(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? secret)
        }
        for (id, secret) in basicPairs where !secret.isEmpty {
            for pair in [id + ":" + secret, FormEncoding.encode(id) + ":" + FormEncoding.encode(secret)] {
                let encoded = Data(pair.utf8).base64EncodedString()
                variants.insert(encoded)
                variants.insert(encoded.trimmingCharacters(in: CharacterSet(charactersIn: "=")))
            }
        }
        // Longest first, so a secret inside a longer form is not half-replaced.
        self.variants = variants.filter { $0.count >= 4 }.sorted { $0.count > $1.count }
    }

    package func scrub(_ text: String) -> String {
        var text = text
        for variant in variants { text = text.replacingOccurrences(of: variant, with: Self.marker) }
        return Self.redactLongRuns(text)
    }

    /// Replaces every run of `longRunLength` or more base64/base64url characters.
    static func redactLongRuns(_ text: String) -> String {
        var out = ""
        var run = ""
        func flush() {
            out += run.count >= longRunLength ? marker : run
            run = ""
        }
        for character in text {
            if character.isASCII, character.isLetter || character.isNumber || "-_+/=.".contains(character) {
                run.append(character)
            } else {
                flush()
                out.append(character)
            }
        }
        flush()
        return out
    }
}
