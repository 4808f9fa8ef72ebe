/// An RFC 7662 answer. Strict: a member of the wrong type (e.g. `"active":"yes"`) makes the whole
/// answer unreadable, which is reported as indeterminate rather than guessed at.
struct IntrospectionResponse: Decodable {
    let active: Bool
    let claims: TokenClaims

    enum CodingKeys: String, CodingKey {
        case active, scope, aud, iss, sub, exp, iat, nbf, username, roles, groups
        case clientID = "client_id"
        case tokenType = "token_type"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        active = try c.decode(Bool.self, forKey: .active)
        var claims = TokenClaims()
        claims.scopes = try c.decodeIfPresent(String.self, forKey: .scope)?.split(separator: " ").map(String.init) ?? []
        claims.issuer = try c.decodeIfPresent(String.self, forKey: .iss)
        claims.subject = try c.decodeIfPresent(String.self, forKey: .sub)
        claims.clientID = try c.decodeIfPresent(String.self, forKey: .clientID)
        claims.username = try c.decodeIfPresent(String.self, forKey: .username)
        claims.tokenType = try c.decodeIfPresent(String.self, forKey: .tokenType)
        claims.expiresAt = try NumericDate.decode(c, forKey: .exp)
        claims.issuedAt = try NumericDate.decode(c, forKey: .iat)
        claims.notBefore = try NumericDate.decode(c, forKey: .nbf)
        if let single = try? c.decodeIfPresent(String.self, forKey: .aud) {
            claims.audiences = [single]
        } else {
            claims.audiences = try c.decodeIfPresent([String].self, forKey: .aud) ?? []
        }
        claims.roles = StringList.lenient(c, forKey: .roles)
        claims.groups = StringList.lenient(c, forKey: .groups)
        self.claims = claims
    }
}

/// RFC 7519 NumericDate: integer or fractional seconds, rounded down; absurd values are errors.
enum NumericDate {
    static func decode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) throws -> Int? {
        guard let value = try c.decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard value.isFinite, abs(value) < 1e12 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "NumericDate out of range")
        }
        return Int(value.rounded(.down))
    }
}

/// A claim that may be a string array or one space-separated string. Anything else reads as
/// empty: these claims only ever grant, so a malformed one grants nothing.
enum StringList {
    static func lenient<K: CodingKey>(_ c: KeyedDecodingContainer<K>, forKey key: K) -> [String] {
        if let list = try? c.decodeIfPresent([String].self, forKey: key) { return list }
        if let text = try? c.decodeIfPresent(String.self, forKey: key) { return text.split(separator: " ").map(String.init) }
        return []
    }
}
