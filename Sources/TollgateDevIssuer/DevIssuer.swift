import Foundation
import JWTKit
import Synchronization
package import TollgateConfiguration
package import TollgateKit

/// Tollgate's embedded OAuth2 authorization server for development and tests: client
/// credentials, JWKS, RFC 7662 introspection and RFC 7009 revocation. Not for production.
package final class DevIssuer: Sendable {
    package let issuerURL: String
    package let audience: String
    package let tokenTTL: Int
    private let keys: JWTKeyCollection
    private let keyring: Mutex<Keyring>
    private let clients: [String: (DevClientConfig, SecretDigest)]
    private let clock: any TollgateClock
    private let revoked = Mutex<[String: Int]>([:])
    private let counters = Mutex<[DevIssuerEndpoint: Int]>([:])
    private let serving = Atomic<Bool>(false)

    package init(config: DevIssuerConfig, issuerURL: String, clock: any TollgateClock) async throws {
        self.issuerURL = issuerURL
        self.audience = config.audience
        self.tokenTTL = config.tokenTTLSeconds
        let key = try DevSigningKey.load(pemFile: config.signingKeyFile)
        self.keys = JWTKeyCollection()
        await keys.add(rsa: key.privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.kid))
        self.keyring = Mutex(Keyring(activeKid: key.kid, published: [key.jwkJSON]))
        self.clients = Dictionary(config.clients.map { ($0.clientID, ($0, SecretDigest($0.clientSecret.value))) }, uniquingKeysWith: { first, _ in first })
        self.clock = clock
    }

    // MARK: Keys

    struct Keyring {
        var activeKid: String
        var published: [String]
    }

    /// The `kid` new tokens are signed with.
    package var activeKid: String { keyring.withLock { $0.activeKid } }

    package var jwksJSON: String { keyring.withLock { "{\"keys\":[" + $0.published.joined(separator: ",") + "]}" } }

    /// Key rotation: a new RS256 key is published and signs every token from now on; the old
    /// key stays published so tokens it signed still verify.
    func rotateKey() async throws {
        let key = try DevSigningKey.load(pemFile: nil)
        await keys.add(rsa: key.privateKey, digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.kid))
        keyring.withLock {
            $0.published.append(key.jwkJSON)
            $0.activeKid = key.kid
        }
    }

    /// Publishes an extra public JWK (tests use this to put foreign key types in the JWKS).
    func publish(jwkJSON: String) {
        keyring.withLock { $0.published.append(jwkJSON) }
    }

    // MARK: Serving state and counters

    package var isServing: Bool { serving.load(ordering: .relaxed) }
    package func markServing() { serving.store(true, ordering: .relaxed) }

    /// How many requests an endpoint has answered (tests count introspection calls with this).
    func requestCount(_ endpoint: DevIssuerEndpoint) -> Int { counters.withLock { $0[endpoint, default: 0] } }
    package func count(_ endpoint: DevIssuerEndpoint) { counters.withLock { $0[endpoint, default: 0] += 1 } }

    // MARK: Clients

    /// The client whose id and secret match, compared in constant time.
    package func authenticate(clientID: String, secret: String) -> DevClientConfig? {
        guard let (client, digest) = clients[clientID] else { return nil }
        return digest.matches(secret) ? client : nil
    }

    // MARK: Tokens

    package struct IssuedToken: Sendable {
        package let accessToken: String
        package let expiresIn: Int
        package let scope: String
    }

    package enum TokenError: Error, Equatable {
        case invalidScope
        case invalidTarget
    }

    /// Mints an RS256 `at+jwt` for a client; requested scopes must be a subset of the client's.
    package func issue(to client: DevClientConfig, scope requested: String?, resource: String?) async throws -> IssuedToken {
        let granted: [String]
        if let requested, !requested.isEmpty {
            let asked = requested.split(separator: " ").map(String.init)
            guard asked.allSatisfy(client.scopes.contains) else { throw TokenError.invalidScope }
            granted = asked
        } else {
            granted = client.scopes
        }
        if let resource {
            guard let url = URL(string: resource), url.scheme != nil, url.fragment == nil else { throw TokenError.invalidTarget }
        }
        let now = Int(clock.now())
        let payload = DevAccessToken(
            iss: issuerURL, sub: client.clientID, aud: resource ?? audience, client_id: client.clientID,
            scope: granted.joined(separator: " "), iat: now, nbf: now, exp: now + tokenTTL, jti: UUID().uuidString
        )
        let token = try await keys.sign(payload, kid: JWKIdentifier(string: activeKid), header: ["typ": .string("at+jwt")])
        return IssuedToken(accessToken: token, expiresIn: tokenTTL, scope: payload.scope)
    }

    /// The RFC 7662 answer for a token, as a JSON object.
    package func introspect(_ token: String) async -> String {
        guard let claims = await activeClaims(of: token) else { return "{\"active\":false}" }
        return JSONText.object([
            ("active", .bool(true)), ("iss", .string(claims.iss)), ("sub", .string(claims.sub)),
            ("aud", .string(claims.aud)), ("client_id", .string(claims.client_id)), ("scope", .string(claims.scope)),
            ("iat", .int(claims.iat)), ("nbf", .int(claims.nbf)), ("exp", .int(claims.exp)),
            ("jti", .string(claims.jti)), ("token_type", .string("Bearer")),
        ])
    }

    /// The OIDC userinfo answer (OIDC Core §5.3.2) for a token this issuer minted, nil when it is not
    /// active. Dev clients are machines: the "user" is the client, with a name and an address that
    /// cannot exist (`.invalid`, RFC 2606).
    package func userinfo(_ token: String) async -> String? {
        guard let claims = await activeClaims(of: token) else { return nil }
        return JSONText.object([
            ("sub", .string(claims.sub)), ("name", .string("Dev client " + claims.client_id)),
            ("preferred_username", .string(claims.client_id)), ("email", .string(claims.client_id + "@dev-issuer.invalid")),
            ("email_verified", .bool(false)),
        ])
    }

    /// RFC 7009: a token this issuer minted stops being active. Unknown tokens are ignored.
    package func revoke(_ token: String) async {
        guard let claims = await activeClaims(of: token) else { return }
        let now = Int(clock.now())
        revoked.withLock { list in
            list = list.filter { $0.value > now }
            list[claims.jti] = claims.exp
        }
    }

    private func activeClaims(of token: String) async -> DevAccessToken? {
        guard let claims = try? await keys.verify(token, as: DevAccessToken.self) else { return nil }
        let now = Int(clock.now())
        guard claims.iss == issuerURL, claims.exp > now, claims.nbf <= now else { return nil }
        guard revoked.withLock({ $0[claims.jti] == nil }) else { return nil }
        return claims
    }
}

package enum DevIssuerEndpoint: String, Sendable, CaseIterable {
    case discovery, token, jwks, introspect, revoke, userinfo
}
