/// One entry of `forward_auth.rules`: which forwarded requests it matches (methods, a path regex,
/// optionally a host) and what a token needs to pass there. First match wins.
package struct ForwardAuthRuleConfig: Sendable, Decodable {
    /// For logs and the access log; defaults to `rules[N]`.
    package var name: String?
    /// Upper-case methods; empty matches every method.
    package var methods: [String] = []
    /// A regular expression searched in the normalised request path (anchor it with `^`).
    package var path: String = ""
    /// An exact host or `*.suffix`, compared without port and case.
    package var host: String?
    /// Every one of these scopes.
    package var scopes: [String] = []
    /// At least one of these scopes.
    package var anyScopes: [String] = []
    /// At least one of these audiences.
    package var audiences: [String] = []
    /// Issuer aliases or identifiers the token must come from.
    package var issuers: [String] = []
    /// At least one of these roles, read at `roles_claim`.
    package var roles: [String] = []
    /// A dotted claim path: `roles`, `groups`, `realm_access.roles`, `resource_access.<client>.roles`, …
    package var rolesClaim = "roles"
    /// Pass without a token (no identity headers are sent).
    package var allowAnonymous = false
    /// Replaces `forward_auth.claims_to_headers` for this rule.
    package var claimsToHeaders: [String: String]?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, methods, path, host, scopes, audiences, issuers, roles
        case anyScopes = "any_scopes"
        case rolesClaim = "roles_claim"
        case allowAnonymous = "allow_anonymous"
        case claimsToHeaders = "claims_to_headers"
    }

    package init(methods: [String] = [], path: String, scopes: [String] = []) {
        self.methods = methods
        self.path = path
        self.scopes = scopes
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        name = try c.decodeOptional(.name)
        methods = try c.decode(.methods, default: methods)
        path = try c.decode(.path, default: path)
        host = try c.decodeOptional(.host)
        scopes = try c.decode(.scopes, default: scopes)
        anyScopes = try c.decode(.anyScopes, default: anyScopes)
        audiences = try c.decode(.audiences, default: audiences)
        issuers = try c.decode(.issuers, default: issuers)
        roles = try c.decode(.roles, default: roles)
        rolesClaim = try c.decode(.rolesClaim, default: rolesClaim)
        allowAnonymous = try c.decode(.allowAnonymous, default: allowAnonymous)
        claimsToHeaders = try c.decodeOptional(.claimsToHeaders)
    }

    /// Whether the rule asks anything of a token beyond the issuer's own policy.
    package var hasRequirements: Bool {
        !scopes.isEmpty || !anyScopes.isEmpty || !audiences.isEmpty || !issuers.isEmpty || !roles.isEmpty
    }
}

/// `forward_auth.default`: what happens to a request no rule matches (and, written out as
/// `authenticated`, to a request nothing describes).
package enum ForwardAuthDefault: String, ConfigEnum {
    /// Any token the issuers accept passes (Tollgate's behaviour without rules).
    case authenticated
    /// 403, without looking at the token.
    case deny
}
