package import Crypto
import Foundation
import Synchronization
package import TollgateKit

/// An outbound server's DPoP key (RFC 9449): a P-256 key generated at start, or read from
/// `dpop_key_file`, and the proofs it signs (ES256 through swift-crypto) for token requests and
/// proxied requests. The last `DPoP-Nonce` each origin sent is put in the next proof there.
package final class DPoPKey: Sendable {
    private let key: P256.Signing.PrivateKey
    /// The public key as the proof header's `jwk`.
    private let jwk: JSONText.Value
    package let thumbprint: String
    private let clock: any TollgateClock
    private let nonces = Mutex<[String: String]>([:])

    package init(key: P256.Signing.PrivateKey = P256.Signing.PrivateKey(), clock: any TollgateClock = SystemClock()) {
        self.key = key
        self.clock = clock
        let raw = key.publicKey.rawRepresentation
        let x = Base64URL.encode(raw.prefix(32)), y = Base64URL.encode(raw.suffix(32))
        // RFC 7638: the required members in lexicographic order, no whitespace.
        let members: [(String, JSONText.Value)] = [("crv", .string("P-256")), ("kty", .string("EC")), ("x", .string(x)), ("y", .string(y))]
        jwk = .raw(JSONText.object(members))
        thumbprint = JWKThumbprint.sha256(canonical: JSONText.object(members))
    }

    /// A P-256 private key in PEM (PKCS#8 or SEC 1).
    package convenience init(pemFile path: String, clock: any TollgateClock = SystemClock()) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        self.init(key: try P256.Signing.PrivateKey(pemRepresentation: text), clock: clock)
    }

    /// A proof for `method` on `url` (its query and fragment are not part of `htu`), bound to
    /// `accessToken` (`ath`) when one is sent, with the origin's last nonce.
    package func proof(method: String, url: String, accessToken: String? = nil) -> String {
        let target = Self.withoutQuery(url)
        var claims: [(String, JSONText.Value)] = [
            ("jti", .string(UUID().uuidString.lowercased())), ("htm", .string(method)), ("htu", .string(target)),
            ("iat", .int(Int(clock.now()))),
        ]
        if let accessToken { claims.append(("ath", .string(Base64URL.sha256(accessToken)))) }
        if let nonce = nonces.withLock({ $0[Self.origin(target)] }) { claims.append(("nonce", .string(nonce))) }
        let header = JSONText.object([("typ", .string("dpop+jwt")), ("alg", .string("ES256")), ("jwk", jwk)])
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(JSONText.object(claims).utf8))
        guard let signature = try? key.signature(for: Array(signingInput.utf8)) else { return signingInput + "." }
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// Keeps the nonce a server sent with an answer (RFC 9449 §8, §9) for the next proof there.
    /// Returns true when it is new (a `use_dpop_nonce` refusal is then worth one more try).
    @discardableResult
    package func note(nonce: String?, from url: String) -> Bool {
        guard let nonce, !nonce.isEmpty, nonce.utf8.count <= 1024, nonce.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
        let origin = Self.origin(Self.withoutQuery(url))
        return nonces.withLock { table in
            defer { table[origin] = nonce }
            return table[origin] != nonce
        }
    }

    package func hasNonce(for url: String) -> Bool {
        let origin = Self.origin(Self.withoutQuery(url))
        return nonces.withLock { $0[origin] != nil }
    }

    static func withoutQuery(_ url: String) -> String {
        String(url.prefix { $0 != "?" && $0 != "#" })
    }

    /// `scheme://authority` of an absolute URL.
    static func origin(_ url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let rest = url[schemeEnd.upperBound...]
        return String(url[..<schemeEnd.upperBound]) + String(rest.prefix { $0 != "/" })
    }
}
