/// What a route asks of a token on top of its issuer's policy. Checked on every decision,
/// cached or not: a cached token never skips a rule.
package struct RouteRequirement: Sendable {
    /// Every one of these (a rule's `scopes`, `X-Required-Scopes`, `?scope=`).
    package var scopes: [String] = []
    /// At least one of these.
    package var anyScopes: [String] = []
    /// At least one of these audiences.
    package var audiences: Set<String> = []
    /// Issuer aliases the token must come from.
    package var issuers: Set<String> = []
    /// At least one of these at `rolesClaim`.
    package var roles: Set<String> = []
    package var rolesClaim = "roles"
    /// oauth2-proxy's auth-URL constraints: at least one of these groups at `groupsClaim`, an
    /// `email` among `emails`, an `email` whose domain `emailDomains` allows. All that are set apply.
    package var groups: Set<String> = []
    package var groupsClaim = "groups"
    package var emails: Set<String> = []
    package var emailDomains: [String] = []

    package static let none = RouteRequirement()

    package init(
        scopes: [String] = [], anyScopes: [String] = [], audiences: Set<String> = [], issuers: Set<String> = [],
        roles: Set<String> = [], rolesClaim: String = "roles"
    ) {
        self.scopes = scopes
        self.anyScopes = anyScopes
        self.audiences = audiences
        self.issuers = issuers
        self.roles = roles
        self.rolesClaim = rolesClaim
    }

    /// This requirement with more all-of scopes (a proxy's per-request ones).
    package func adding(scopes extra: [String]) -> RouteRequirement {
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
        if !groups.isEmpty && !claims.values(at: groupsClaim).contains(where: groups.contains) { return (.group, []) }
        if !emails.isEmpty || !emailDomains.isEmpty {
            guard let email = Self.verifiedEmail(claims) else { return (.email, []) }
            if !emails.isEmpty && !emails.contains(email) { return (.email, []) }
            if !emailDomains.isEmpty && !Self.domainAllowed(email, by: emailDomains) { return (.email, []) }
        }
        return nil
    }

    /// The token's `email` (else userinfo's), unless the issuer says it is not verified.
    static func verifiedEmail(_ claims: TokenClaims) -> String? {
        let fromToken = claims.values(at: "email").first
        let verified = fromToken != nil ? claims.values(at: "email_verified").first : claims.userinfo["email_verified"]
        guard verified != "false" else { return nil }
        return fromToken ?? claims.userinfo["email"]
    }

    /// oauth2-proxy's rule: `example.org` is that domain exactly; `.example.org` and
    /// `*.example.org` are it and every subdomain. Domains compare without case.
    static func domainAllowed(_ email: String, by allowed: [String]) -> Bool {
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return false }
        let domain = parts[1].lowercased()
        return allowed.contains { entry in
            let entry = entry.lowercased()
            let suffix = entry.hasPrefix("*.") ? String(entry.dropFirst()) : entry.hasPrefix(".") ? entry : nil
            guard let suffix else { return domain == entry }
            return domain == suffix.dropFirst() || domain.hasSuffix(suffix)
        }
    }
}
