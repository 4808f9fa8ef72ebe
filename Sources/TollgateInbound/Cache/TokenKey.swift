import Crypto
import TollgateKit

/// The only form in which a token is ever kept: its SHA-256 digest.
package struct TokenKey: Hashable, Sendable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    package init(token: some StringProtocol) {
        var token = String(token)
        let digest = token.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { out in digest.withUnsafeBytes { out.copyMemory(from: $0) } }
        (a, b, c, d) = words
    }

    /// The key of a token known only by its SHA-256 (64 hex digits), as an operator or another
    /// replica names it without the token itself; nil for anything else.
    package init?(sha256Hex hex: some StringProtocol) {
        let bytes = Array(hex.utf8)
        guard bytes.count == 64 else { return nil }
        var digest = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = FormEncoding.hexValue(bytes[2 * index]), let low = FormEncoding.hexValue(bytes[2 * index + 1]) else { return nil }
            digest[index] = high << 4 | low
        }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { out in digest.withUnsafeBytes { out.copyMemory(from: $0) } }
        (a, b, c, d) = words
    }

    /// The full digest as 64 lowercase hex digits (what replicas pass each other).
    package var sha256Hex: String {
        withUnsafeBytes(of: (a, b, c, d)) { raw in raw.map { String(format: "%02x", $0) }.joined() }
    }

    /// A short, non-reversible fingerprint for logs (first 12 hex digits of the digest).
    package var fingerprint: String {
        let hex = String(a.bigEndian, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex.prefix(12)
    }
}
