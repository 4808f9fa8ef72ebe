extension Principal {
    /// A claim as one header value (forward-auth's `X-Auth-*` headers): the named fields Tollgate
    /// reads, `issuer` (the alias of the issuer that decided), else a claim path, else a userinfo
    /// claim; lists joined with spaces. Nil when the token does not carry it.
    package func headerValue(ofClaim claim: String, issuer: String?) -> String? {
        switch claim {
        case "sub": return claims.subject
        case "client_id": return claims.clientID
        case "scope": return claims.scopes.isEmpty ? nil : claims.scopes.joined(separator: " ")
        case "issuer": return issuer
        case "iss": return claims.issuer
        case "aud": return claims.audiences.isEmpty ? nil : claims.audiences.joined(separator: " ")
        case "username": return claims.username
        case "user_id": return claims.userID
        case "exp": return claims.expiresAt.map(String.init)
        default:
            let values = claims.values(at: claim)
            return values.isEmpty ? claims.userinfo[claim] : values.joined(separator: " ")
        }
    }
}
