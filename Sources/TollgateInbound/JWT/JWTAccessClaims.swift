/// The payload of a JWT access token (RFC 9068), decoded once: `iss` for routing to an issuer,
/// and every claim Tollgate reads. Nothing here is trusted until the signature is verified.
struct JWTAccessClaims: Decodable {
    /// Used only to choose which issuer verifies the token.
    let unverifiedIssuer: String?
    /// Nil when a claim has the wrong type: such a token is refused after routing.
    let claims: TokenClaims?

    init(from decoder: any Decoder) throws {
        let reader = try ClaimsReader(decoder)
        unverifiedIssuer = try? reader.string("iss")
        claims = try? reader.tokenClaims()
    }
}
