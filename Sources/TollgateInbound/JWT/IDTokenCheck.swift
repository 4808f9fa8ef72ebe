package import AsyncHTTPClient
package import NIOCore
import TollgateConfiguration
package import TollgateKit

/// An OIDC ID token from a code exchange, checked as OIDC Core §3.1.3.7 asks before the exchange's
/// tokens are kept: signed by a key from the issuer's own JWKS (the `jwks_uri` its discovery
/// document names, never a URL in the token) with the same validator as access tokens (no `none`,
/// algorithm bound to key type, `crit` refused), `iss` the issuer, `aud` naming the client (`azp`
/// the client when there are several), `exp` and `iat` present, and the `nonce` the authorization
/// request sent.
package enum IDTokenCheck {
    package struct Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        package let description: String
        init(_ description: String) { self.description = description }
    }

    /// Clock skew allowed on `exp` and `iat`, seconds.
    static let leewaySeconds = 60.0

    /// The ID token's claims once every check passed; `claimPaths` are read on top of the standard ones.
    @discardableResult
    package static func verify(
        _ idToken: String, issuer: String, clientID: String, nonce: String, jwksURI: String, http: HTTPClient,
        clock: any TollgateClock, timeout: TimeAmount, claimPaths: ClaimPaths = .none
    ) async -> Result<TokenClaims, Refusal> {
        guard let jws = try? CompactJWS(idToken, claimPaths: claimPaths) else { return .failure(Refusal("the ID token is not a JWS")) }
        let algorithms = JWSAlgorithmName.allCases
        let fetcher = JWKSFetcher(uri: jwksURI, settings: JWKSConfig(), allowed: algorithms, http: http, timeout: timeout, clock: clock)
        let keys = JWKSKeySet(issuerName: "id-token", source: fetcher, settings: JWKSConfig(), clock: clock, observer: NoJWKSObserver())
        if case .failed(let problem) = await keys.refresh() { return .failure(Refusal("the issuer's keys: \(problem)")) }
        let validator = JWTValidator(issuerURL: issuer, allowed: Set(algorithms), requireTyp: nil, keys: keys, leeway: leewaySeconds, clock: clock)
        let claims: TokenClaims
        switch await validator.validate(jws, issuer: 0) {
        case .active(let principal, _): claims = principal.claims
        case .rejected(let reason, _): return .failure(Refusal("the ID token is refused (\(reason.rawValue))"))
        case .indeterminate(let reason, _): return .failure(Refusal("the ID token could not be checked (\(reason.rawValue))"))
        }
        guard claims.audiences.contains(clientID) else { return .failure(Refusal("the ID token's aud does not name the client")) }
        guard let payload = payload(of: idToken) else { return .failure(Refusal("the ID token's payload is unreadable")) }
        if claims.audiences.count > 1 || payload["azp"] != nil {
            guard payload["azp"]?.string == clientID else { return .failure(Refusal("the ID token's azp is not the client")) }
        }
        guard let issuedAt = claims.issuedAt, Double(issuedAt) <= clock.now() + leewaySeconds else {
            return .failure(Refusal("the ID token's iat is missing or in the future"))
        }
        guard let sent = payload["nonce"]?.string, SecretDigest(sent).matches(nonce) else {
            return .failure(Refusal("the ID token's nonce is missing or not the one sent"))
        }
        return .success(claims)
    }

    /// The payload's members, read only after the signature was verified.
    private static func payload(of token: String) -> JSONObject? {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let bytes = Base64URL.decode(String(segments[1])) else { return nil }
        return try? StrictJSON.object(bytes)
    }
}
