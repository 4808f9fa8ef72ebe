import Crypto
import TollgateKit

/// RFC 7638 thumbprints: SHA-256 over the key's required members, in lexicographic order, as
/// JSON without whitespace; base64url without padding (RFC 9449 `jkt`).
enum JWKThumbprint {
    /// Nil when `jwk` lacks a required member or has a key type without a defined thumbprint.
    static func sha256(_ jwk: JSONObject) -> String? {
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
        return Base64URL.encode(Array(SHA256.hash(data: Array(JSONText.object(members).utf8))))
    }
}
