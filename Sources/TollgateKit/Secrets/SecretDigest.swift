import Crypto
import Foundation

/// The one way Tollgate compares a presented secret (API key, client secret, Basic credentials)
/// with a configured one: both are hashed, and the digests are compared without an early exit,
/// so timing reveals neither the secret nor its length.
package struct SecretDigest: Sendable, Equatable {
    private let bytes: [UInt8]

    package init(_ secret: some StringProtocol) {
        bytes = Array(SHA256.hash(data: Array(secret.utf8)))
    }

    /// The SHA-256 of `text` as 64 lowercase hex digits: how a secret or an identifier is named
    /// where only a stable, bounded, non-reversible key may appear (a stored state, a shared key).
    package static func sha256Hex(_ text: some StringProtocol) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    package func matches(_ presented: some StringProtocol) -> Bool {
        Self.equal(bytes, SecretDigest(presented).bytes)
    }

    /// True when `presented` matches any of `digests`; every digest is checked (key rotation).
    package static func matchesAny(_ presented: some StringProtocol, _ digests: [SecretDigest]) -> Bool {
        let candidate = SecretDigest(presented).bytes
        var found: UInt8 = 0
        for digest in digests { found |= equal(candidate, digest.bytes) ? 1 : 0 }
        return found == 1
    }

    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
