/// What a route asks of a token on top of its issuer's policy. Checked on every decision,
/// cached or not: a cached token never skips a rule.
public struct RouteRequirement: Sendable {
    /// Every one of these (a rule's `scopes`, `X-Required-Scopes`, `?scope=`).
    public var scopes: [String] = []
    /// At least one of these.
    public var anyScopes: [String] = []
    /// At least one of these audiences.
    public var audiences: Set<String> = []
    /// Issuer aliases the token must come from.
    public var issuers: Set<String> = []
    /// At least one of these at `rolesClaim`.
    public var roles: Set<String> = []
    public var rolesClaim = "roles"

    public static let none = RouteRequirement()

    public init(scopes: [String] = [], anyScopes: [String] = [], audiences: Set<String> = [], issuers: Set<String> = [],
                roles: Set<String> = [], rolesClaim: String = "roles") {
        self.scopes = scopes
        self.anyScopes = anyScopes
        self.audiences = audiences
        self.issuers = issuers
        self.roles = roles
        self.rolesClaim = rolesClaim
    }

    /// This requirement with more all-of scopes (a proxy's per-request ones).
    public func adding(scopes extra: [String]) -> RouteRequirement {
        guard !extra.isEmpty else { return self }
        var copy = self
        copy.scopes += extra
        return copy
    }

    /// Nil when a token the issuer accepted also meets the route; otherwise why not, with the
    /// scopes it lacks for `.scope`. All-of scopes are checked by the issuer's policy.
    func violation(of claims: TokenClaims, issuer: String) -> (DenialReason, missing: [String])? {
        if !issuers.isEmpty && !issuers.contains(issuer) { return (.routeIssuer, []) }
        if !audiences.isEmpty && !claims.audiences.contains(where: audiences.contains) { return (.routeAudience, []) }
        if !anyScopes.isEmpty && !claims.scopes.contains(where: anyScopes.contains) { return (.scope, anyScopes) }
        if !roles.isEmpty && !claims.values(at: rolesClaim).contains(where: roles.contains) { return (.role, []) }
        return nil
    }
}
