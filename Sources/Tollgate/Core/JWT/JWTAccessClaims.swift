import JWTKit

/// The claims Tollgate reads from a JWT access token (RFC 9068). Strict about types: a claim of
/// the wrong type makes the token malformed rather than silently ignored.
struct JWTAccessClaims: JWTPayload {
    let claims: TokenClaims

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, nbf, iat, scope, scp, username, roles, groups
        case clientID = "client_id"
        case azp
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        var claims = TokenClaims()
        claims.issuer = try c.decodeIfPresent(String.self, forKey: .iss)
        claims.subject = try c.decodeIfPresent(String.self, forKey: .sub)
        claims.clientID = try c.decodeIfPresent(String.self, forKey: .clientID) ?? c.decodeIfPresent(String.self, forKey: .azp)
        claims.username = try c.decodeIfPresent(String.self, forKey: .username)
        if let single = try? c.decodeIfPresent(String.self, forKey: .aud) {
            claims.audiences = [single]
        } else {
            claims.audiences = try c.decodeIfPresent([String].self, forKey: .aud) ?? []
        }
        if let scope = try c.decodeIfPresent(String.self, forKey: .scope) {
            claims.scopes = scope.split(separator: " ").map(String.init)
        } else if let scp = try? c.decodeIfPresent([String].self, forKey: .scp) {
            claims.scopes = scp
        } else if let scp = try c.decodeIfPresent(String.self, forKey: .scp) {
            claims.scopes = scp.split(separator: " ").map(String.init)
        }
        claims.expiresAt = try NumericDate.decode(c, forKey: .exp)
        claims.notBefore = try NumericDate.decode(c, forKey: .nbf)
        claims.issuedAt = try NumericDate.decode(c, forKey: .iat)
        claims.roles = StringList.lenient(c, forKey: .roles)
        claims.groups = StringList.lenient(c, forKey: .groups)
        self.claims = claims
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encodeIfPresent(claims.issuer, forKey: .iss)
        try c.encodeIfPresent(claims.subject, forKey: .sub)
    }

    /// Claims are checked by Tollgate's own policy against its injectable clock.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
