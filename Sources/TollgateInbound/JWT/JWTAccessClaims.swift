import TollgateKit

/// The payload of a JWT access token (RFC 9068), read once: `iss` for routing to an issuer,
/// and every claim Tollgate reads. Nothing here is trusted until the signature is verified.
struct JWTAccessClaims {
    /// Used only to choose which issuer verifies the token.
    let unverifiedIssuer: String?
    /// Nil when a claim has the wrong type: such a token is refused after routing.
    let claims: TokenClaims?

    init(_ object: JSONObject, paths: ClaimPaths) {
        let reader = ClaimsReader(object, paths: paths)
        unverifiedIssuer = try? reader.string("iss")
        claims = try? reader.tokenClaims()
    }
}
