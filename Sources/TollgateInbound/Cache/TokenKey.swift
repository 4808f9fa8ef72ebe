import Crypto

/// The only form in which a token is ever kept: its SHA-256 digest.
public struct TokenKey: Hashable, Sendable {
    let a: UInt64, b: UInt64, c: UInt64, d: UInt64

    public init(token: some StringProtocol) {
        var token = String(token)
        let digest = token.withUTF8 { SHA256.hash(data: UnsafeRawBufferPointer($0)) }
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { out in digest.withUnsafeBytes { out.copyMemory(from: $0) } }
        (a, b, c, d) = words
    }

    /// A short, non-reversible fingerprint for logs (first 12 hex digits of the digest).
    public var fingerprint: String {
        let hex = String(a.bigEndian, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex.prefix(12)
    }
}
