import Crypto

/// RFC 7638 thumbprints: SHA-256 over the key's required members, in lexicographic order, as
/// JSON without whitespace; base64url without padding (RFC 9449 `jkt`). The verifier computes it
/// for a proof's key, the outbound DPoP client for its own.
package enum JWKThumbprint {
    /// Nil when `jwk` lacks a required member or has a key type without a defined thumbprint.
    package static func sha256(_ jwk: JSONObject) -> String? {
        guard let kty = jwk["kty"]?.string else { return nil }
        let required: [String]
        switch kty {
        case "RSA": required = ["e", "kty", "n"]
        case "EC": required = ["crv", "kty", "x", "y"]
        case "OKP": required = ["crv", "kty", "x"]
        default: return nil
        }
        var members: [(String, JSONText.Value)] = []
        for name in required {
            guard let value = jwk[name]?.string, !value.isEmpty else { return nil }
            members.append((name, .string(value)))
        }
        return sha256(canonical: JSONText.object(members))
    }

    /// The thumbprint of a key already written as its required members in order.
    package static func sha256(canonical json: String) -> String {
        Base64URL.sha256(json)
    }
}

extension Base64URL {
    /// The base64url SHA-256 of `text`'s UTF-8: RFC 9449 `ath`, RFC 7638 and RFC 8705 thumbprints.
    package static func sha256(_ text: some StringProtocol) -> String {
        sha256(bytes: Array(text.utf8))
    }

    package static func sha256(bytes: [UInt8]) -> String {
        encode(Array(SHA256.hash(data: bytes)))
    }
}
