package import Crypto
import Foundation
import Synchronization
package import TollgateKit

/// An outbound server's DPoP key (RFC 9449): a P-256 key generated at start, or read from
/// `dpop_key_file` (and replaced when that file changes: `rotate`), and the proofs it signs
/// (ES256 through swift-crypto) for token requests and proxied requests. The last `DPoP-Nonce`
/// each origin sent is put in the next proof there.
package final class DPoPKey: Sendable {
    private struct Signer: Sendable {
        let key: P256.Signing.PrivateKey
        /// The public key as the proof header's `jwk`.
        let jwk: JSONText.Value
        let thumbprint: String

        init(_ key: P256.Signing.PrivateKey) {
            self.key = key
            let raw = key.publicKey.rawRepresentation
            let x = Base64URL.encode(raw.prefix(32)), y = Base64URL.encode(raw.suffix(32))
            // RFC 7638: the required members in lexicographic order, no whitespace.
            let members: [(String, JSONText.Value)] = [("crv", .string("P-256")), ("kty", .string("EC")), ("x", .string(x)), ("y", .string(y))]
            jwk = .raw(JSONText.object(members))
            thumbprint = JWKThumbprint.sha256(canonical: JSONText.object(members))
        }
    }

    private let signer: Mutex<Signer>
    private let clock: any TollgateClock
    private let nonces = Mutex<[String: String]>([:])

    package init(key: P256.Signing.PrivateKey = P256.Signing.PrivateKey(), clock: any TollgateClock = SystemClock()) {
        signer = Mutex(Signer(key))
        self.clock = clock
    }

    /// The RFC 7638 thumbprint of the current key: what a token bound to it carries as `cnf.jkt`.
    package var thumbprint: String { signer.withLock { $0.thumbprint } }

    /// Signs the next proofs with `key`. Tokens bound to the old key are the caller's to drop.
    /// Returns false when `key` is the current key already.
    @discardableResult
    package func rotate(to key: P256.Signing.PrivateKey) -> Bool {
        let next = Signer(key)
        return signer.withLock { current in
            guard current.thumbprint != next.thumbprint else { return false }
            current = next
            return true
        }
    }

    /// A P-256 private key in PEM (PKCS#8 or SEC 1).
    package convenience init(pemFile path: String, clock: any TollgateClock = SystemClock()) throws {
        self.init(key: try Self.read(pemFile: path), clock: clock)
    }

    package typealias PrivateKey = P256.Signing.PrivateKey

    package static func read(pemFile path: String) throws -> PrivateKey {
        try P256.Signing.PrivateKey(pemRepresentation: String(contentsOfFile: path, encoding: .utf8))
    }

    /// Whose nonce a proof carries: an authorization server's and a resource server's nonces are
    /// separate (RFC 9449 §8, §9), even on one origin, or they would displace each other.
    package enum NonceScope: Sendable {
        /// The token endpoint at exactly this URL.
        case tokenEndpoint
        /// Any resource on the URL's origin.
        case resource
    }

    /// A proof for `method` on `url` (its query and fragment are not part of `htu`), bound to
    /// `accessToken` (`ath`) when one is sent, with the last nonce of that server.
    package func proof(method: String, url: String, accessToken: String? = nil, scope: NonceScope = .resource) -> String {
        let target = Self.withoutQuery(url)
        var claims: [(String, JSONText.Value)] = [
            ("jti", .string(UUID().uuidString.lowercased())), ("htm", .string(method)), ("htu", .string(target)),
            ("iat", .int(Int(clock.now()))),
        ]
        if let accessToken { claims.append(("ath", .string(Base64URL.sha256(accessToken)))) }
        if let nonce = nonces.withLock({ $0[Self.nonceKey(target, scope)] }) { claims.append(("nonce", .string(nonce))) }
        let signer = signer.withLock { $0 }
        let header = JSONText.object([("typ", .string("dpop+jwt")), ("alg", .string("ES256")), ("jwk", signer.jwk)])
        let signingInput = Base64URL.encode(Array(header.utf8)) + "." + Base64URL.encode(Array(JSONText.object(claims).utf8))
        guard let signature = try? signer.key.signature(for: Array(signingInput.utf8)) else { return signingInput + "." }
        return signingInput + "." + Base64URL.encode(signature.rawRepresentation)
    }

    /// Keeps the nonce a server sent with an answer (RFC 9449 §8, §9) for the next proof there.
    /// Returns true when it is new (a `use_dpop_nonce` refusal is then worth one more try).
    @discardableResult
    package func note(nonce: String?, from url: String, scope: NonceScope = .resource) -> Bool {
        guard let nonce, !nonce.isEmpty, nonce.utf8.count <= 1024, nonce.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return false }
        let key = Self.nonceKey(Self.withoutQuery(url), scope)
        return nonces.withLock { table in
            defer { table[key] = nonce }
            return table[key] != nonce
        }
    }

    package func hasNonce(for url: String, scope: NonceScope = .resource) -> Bool {
        let key = Self.nonceKey(Self.withoutQuery(url), scope)
        return nonces.withLock { $0[key] != nil }
    }

    private static func nonceKey(_ target: String, _ scope: NonceScope) -> String {
        switch scope {
        case .tokenEndpoint: "token " + target
        case .resource: origin(target)
        }
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
