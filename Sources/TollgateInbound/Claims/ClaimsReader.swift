/// Reads the claims both strategies share: RFC 7662 introspection members and RFC 9068 JWT
/// claims have the same names. Strict about types: a claim of the wrong type is an error rather
/// than silently ignored, except `roles` and `groups`, which only ever grant (a malformed one
/// grants nothing).
struct ClaimsReader {
    struct Key: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    let container: KeyedDecodingContainer<Key>
    let paths: ClaimPaths

    init(_ decoder: any Decoder) throws {
        container = try decoder.container(keyedBy: Key.self)
        paths = decoder.userInfo[ClaimPaths.userInfoKey] as? ClaimPaths ?? .none
    }

    func string(_ name: String) throws -> String? {
        try container.decodeIfPresent(String.self, forKey: Key(name))
    }

    func bool(_ name: String) throws -> Bool {
        try container.decode(Bool.self, forKey: Key(name))
    }

    /// RFC 7519 NumericDate: integer or fractional seconds, rounded down; absurd values are errors.
    func numericDate(_ name: String) throws -> Int? {
        let key = Key(name)
        guard let value = try container.decodeIfPresent(Double.self, forKey: key) else { return nil }
        guard value.isFinite, abs(value) < 1e12 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "NumericDate out of range")
        }
        return Int(value.rounded(.down))
    }

    /// `aud`: one string or a list of strings.
    func audiences() throws -> [String] {
        let key = Key("aud")
        if let single = try? container.decodeIfPresent(String.self, forKey: key) { return [single] }
        return try container.decodeIfPresent([String].self, forKey: key) ?? []
    }

    /// `scope` (space-separated, RFC 6749 §3.3), else `scp` (a list or a string, as Entra and Okta send it).
    func scopes() throws -> [String] {
        if let scope = try string("scope") { return Self.words(scope) }
        let scp = Key("scp")
        if let list = try? container.decodeIfPresent([String].self, forKey: scp) { return list }
        return try container.decodeIfPresent(String.self, forKey: scp).map(Self.words) ?? []
    }

    /// A string list or one space-separated string; anything else reads as empty.
    func lenientList(_ name: String) -> [String] {
        Self.lenientList(name, in: container)
    }

    private static func lenientList(_ name: String, in container: KeyedDecodingContainer<Key>) -> [String] {
        let key = Key(name)
        if let list = try? container.decodeIfPresent([String].self, forKey: key) { return list }
        if let text = try? container.decodeIfPresent(String.self, forKey: key) { return words(text) }
        return []
    }

    /// The string list at a dotted path; anything missing or of another type reads as empty.
    func lenientList(at path: [String]) -> [String] {
        var container = self.container
        for segment in path.dropLast() {
            guard let next = try? container.nestedContainer(keyedBy: Key.self, forKey: Key(segment)) else { return [] }
            container = next
        }
        return path.last.map { Self.lenientList($0, in: container) } ?? []
    }

    /// Every claim Tollgate reads.
    func tokenClaims() throws -> TokenClaims {
        var claims = TokenClaims()
        claims.issuer = try string("iss")
        claims.subject = try string("sub")
        claims.clientID = try string("client_id") ?? string("azp")
        claims.username = try string("username")
        claims.tokenType = try string("token_type")
        claims.audiences = try audiences()
        claims.scopes = try scopes()
        claims.expiresAt = try numericDate("exp")
        claims.notBefore = try numericDate("nbf")
        claims.issuedAt = try numericDate("iat")
        claims.roles = lenientList("roles")
        claims.groups = lenientList("groups")
        claims.name = try? string("name")
        claims.preferredUsername = try? string("preferred_username")
        for (dotted, path) in paths.paths {
            let values = lenientList(at: path)
            if !values.isEmpty { claims.pathClaims[dotted] = values }
        }
        return claims
    }

    private static func words(_ text: String) -> [String] {
        text.split(separator: " ").map(String.init)
    }
}
