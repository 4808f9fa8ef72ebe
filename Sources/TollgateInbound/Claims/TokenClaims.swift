/// What an issuer said about an active token: the RFC 7662 members (and RFC 9068 claims) Tollgate reads.
public struct TokenClaims: Sendable, Equatable {
    public var issuer: String?
    public var subject: String?
    public var clientID: String?
    public var username: String?
    public var audiences: [String] = []
    public var scopes: [String] = []
    public var expiresAt: Int?
    public var issuedAt: Int?
    public var notBefore: Int?
    public var tokenType: String?
    /// `roles` and `groups` claims (Entra, Okta and others), for permission mapping.
    public var roles: [String] = []
    public var groups: [String] = []
    /// `name` and `preferred_username` (OIDC), for display names.
    public var name: String?
    public var preferredUsername: String?
    /// String lists read from the configured claim paths (`realm_access.roles`, …), keyed by path.
    public var pathClaims: [String: [String]] = [:]
    /// The kept claims of the issuer's userinfo answer (never `sub`, `scope`, `aud` or other claims that decide access).
    public var userinfo: [String: String] = [:]

    public init() {}

    /// Takes a userinfo answer whose `sub` was checked against this token: the subject (for a
    /// client-credentials token that had none), display names when the token has none, and the rest as `userinfo`.
    mutating func enrich(with answer: [String: String]) {
        if subject == nil { subject = answer["sub"] }
        if name == nil { name = answer["name"] }
        if preferredUsername == nil { preferredUsername = answer["preferred_username"] }
        userinfo = answer.filter { $0.key != "sub" }
    }

    /// The values at a claim path: `scope` (or `scp`) is the token's scopes, `roles` and `groups`
    /// their claims, anything else a configured path.
    public func values(at path: String) -> [String] {
        switch path {
        case "scope", "scp": scopes
        case "roles": roles
        case "groups": groups
        default: pathClaims[path] ?? []
        }
    }

    /// What a person is called: `name`, else `preferred_username`, else `username`, else the subject.
    public var displayName: String { name ?? preferredUsername ?? username ?? subject ?? clientID ?? "" }

    /// The identity a caller sees: subject, else username, else client id.
    public var userID: String { subject ?? username ?? clientID ?? "" }
}
