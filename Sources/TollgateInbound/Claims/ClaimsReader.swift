import TollgateKit

/// Reads the claims both strategies share: RFC 7662 introspection members and RFC 9068 JWT
/// claims have the same names. Strict about types: a claim of the wrong type is an error rather
/// than silently ignored, except `roles` and `groups`, which only ever grant (a malformed one
/// grants nothing). `null` reads as absent.
struct ClaimsReader {
    struct WrongType: Error, Equatable { let claim: String }

    let object: JSONObject
    let paths: ClaimPaths

    init(_ object: JSONObject, paths: ClaimPaths = .none) {
        self.object = object
        self.paths = paths
    }

    private func present(_ name: String) -> JSONNode? {
        guard let value = object[name], value != .null else { return nil }
        return value
    }

    func string(_ name: String) throws(WrongType) -> String? {
        guard let value = present(name) else { return nil }
        guard let text = value.string else { throw WrongType(claim: name) }
        return text
    }

    func bool(_ name: String) throws(WrongType) -> Bool {
        guard let value = present(name)?.bool else { throw WrongType(claim: name) }
        return value
    }

    /// RFC 7519 NumericDate: integer or fractional seconds, rounded down; absurd values are errors.
    func numericDate(_ name: String) throws(WrongType) -> Int? {
        guard let node = present(name) else { return nil }
        guard let value = node.number, value.isFinite, abs(value) < 1e12 else { throw WrongType(claim: name) }
        return Int(value.rounded(.down))
    }

    /// `aud`: one string or a list of strings.
    func audiences() throws(WrongType) -> [String] {
        guard let node = present("aud") else { return [] }
        if let single = node.string { return [single] }
        guard let list = node.strings else { throw WrongType(claim: "aud") }
        return list
    }

    /// `scope` (space-separated, RFC 6749 §3.3), else `scp` (a list or a string, as Entra and Okta send it).
    func scopes() throws(WrongType) -> [String] {
        if let scope = try string("scope") { return Self.words(scope) }
        guard let scp = present("scp") else { return [] }
        if let list = scp.strings { return list }
        guard let text = scp.string else { throw WrongType(claim: "scp") }
        return Self.words(text)
    }

    /// A string list or one space-separated string; anything else reads as empty.
    func lenientList(_ name: String) -> [String] {
        Self.lenientList(object[name])
    }

    private static func lenientList(_ node: JSONNode?) -> [String] {
        if let list = node?.strings { return list }
        if let text = node?.string { return words(text) }
        return []
    }

    /// The string list at a dotted path (a boolean reads as `true` or `false`, for flags such as
    /// `email_verified`); anything missing or of another type reads as empty.
    func lenientList(at path: [String]) -> [String] {
        var container = object
        for segment in path.dropLast() {
            guard let next = container[segment]?.object else { return [] }
            container = next
        }
        guard let node = path.last.flatMap({ container[$0] }) else { return [] }
        if let flag = node.bool { return [flag ? "true" : "false"] }
        return Self.lenientList(node)
    }

    /// Every claim Tollgate reads.
    func tokenClaims() throws(WrongType) -> TokenClaims {
        var claims = TokenClaims()
        claims.issuer = try string("iss")
        claims.subject = try string("sub")
        claims.clientID = try string("client_id")
        if claims.clientID == nil { claims.clientID = try string("azp") }
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
        claims.binding = TokenBinding(cnf: object["cnf"])
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
