/// What an issuer said about an active token: the RFC 7662 members (and RFC 9068 claims) Tollgate reads.
/// Claims most tokens lack live in one shared box, so that a cached decision without them is
/// half the size (cached decisions are the bulk of Tollgate's memory).
package struct TokenClaims: Sendable, Equatable {
    package var issuer: String?
    package var subject: String?
    package var clientID: String?
    package var audiences: [String] = []
    package var scopes: [String] = []
    private var rare: RareClaimsBox?
    // NumericDates without an Optional's padding: Int.min is "absent" (claims are range-checked far inside it).
    private var exp = Int.min, iat = Int.min, nbf = Int.min

    package var expiresAt: Int? {
        get { exp == .min ? nil : exp }
        set { exp = newValue ?? .min }
    }
    package var issuedAt: Int? {
        get { iat == .min ? nil : iat }
        set { iat = newValue ?? .min }
    }
    package var notBefore: Int? {
        get { nbf == .min ? nil : nbf }
        set { nbf = newValue ?? .min }
    }

    package var username: String? {
        get { rare?.claims.username }
        set { setRare(\.username, newValue) }
    }
    package var tokenType: String? {
        get { rare?.claims.tokenType }
        set { setRare(\.tokenType, newValue) }
    }
    /// `roles` and `groups` claims (Entra, Okta and others), for permission mapping.
    package var roles: [String] {
        get { rare?.claims.roles ?? [] }
        set { setRare(\.roles, newValue) }
    }
    package var groups: [String] {
        get { rare?.claims.groups ?? [] }
        set { setRare(\.groups, newValue) }
    }
    /// `name` and `preferred_username` (OIDC), for display names.
    package var name: String? {
        get { rare?.claims.name }
        set { setRare(\.name, newValue) }
    }
    package var preferredUsername: String? {
        get { rare?.claims.preferredUsername }
        set { setRare(\.preferredUsername, newValue) }
    }
    /// String lists read from the configured claim paths (`realm_access.roles`, …), keyed by path.
    package var pathClaims: [String: [String]] {
        get { rare?.claims.pathClaims ?? [:] }
        set { setRare(\.pathClaims, newValue) }
    }
    /// `cnf`: the key or certificate the token is bound to (RFC 9449, RFC 8705).
    package var binding: TokenBinding? {
        get { rare?.claims.binding }
        set { setRare(\.binding, newValue) }
    }
    /// The kept claims of the issuer's userinfo answer (never `sub`, `scope`, `aud` or other claims that decide access).
    package var userinfo: [String: String] {
        get { rare?.claims.userinfo ?? [:] }
        set { setRare(\.userinfo, newValue) }
    }

    /// Claims are set while an answer is read, a handful per token: each set makes a new box, so
    /// a box is never shared while it changes. An equal value is still stored (the interner swaps
    /// a list for its shared copy); only a default one never makes a box.
    private mutating func setRare<Value: Equatable>(_ member: WritableKeyPath<RareClaims, Value>, _ value: Value) {
        var claims = rare?.claims ?? RareClaims()
        if rare == nil, claims[keyPath: member] == value { return }
        claims[keyPath: member] = value
        rare = RareClaimsBox(claims)
    }

    package static func == (lhs: TokenClaims, rhs: TokenClaims) -> Bool {
        lhs.issuer == rhs.issuer && lhs.subject == rhs.subject && lhs.clientID == rhs.clientID && lhs.audiences == rhs.audiences
            && lhs.scopes == rhs.scopes && lhs.exp == rhs.exp && lhs.iat == rhs.iat && lhs.nbf == rhs.nbf
            && (lhs.rare?.claims ?? RareClaims()) == (rhs.rare?.claims ?? RareClaims())
    }

    package init() {}

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
    package func values(at path: String) -> [String] {
        switch path {
        case "scope", "scp": scopes
        case "roles": roles
        case "groups": groups
        default: pathClaims[path] ?? []
        }
    }

    /// What a person is called: `name`, else `preferred_username`, else `username`, else the subject.
    package var displayName: String { name ?? preferredUsername ?? username ?? subject ?? clientID ?? "" }

    /// The identity a caller sees: subject, else username, else client id.
    package var userID: String { subject ?? username ?? clientID ?? "" }
}

struct RareClaims: Equatable {
    var username: String?
    var tokenType: String?
    var roles: [String] = []
    var groups: [String] = []
    var name: String?
    var preferredUsername: String?
    var pathClaims: [String: [String]] = [:]
    var userinfo: [String: String] = [:]
    var binding: TokenBinding?
}

final class RareClaimsBox: Sendable {
    let claims: RareClaims
    init(_ claims: RareClaims) { self.claims = claims }
}
