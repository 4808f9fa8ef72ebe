package import TollgateConfiguration

/// Who may use the console once signed in: at least one of `console.required`'s scopes (as the
/// token endpoint granted them), roles or groups (claims of the verified ID token). Signing in at
/// the IdP alone never opens it.
package struct ConsoleAccess: Sendable {
    package enum Verdict: Sendable, Equatable {
        /// What let the person in, for the log: `scope:x`, `role:y` or `group:z`.
        case allowed(by: String)
        /// Why not, in words for the 403 page: what is required, never what the token held.
        case refused(String)
    }

    private let required: ConsoleRequirementConfig

    package init(required: ConsoleRequirementConfig) {
        self.required = required
    }

    /// The claim paths the ID token must be read with.
    package var claimPaths: [String] { [required.rolesClaim, required.groupsClaim] }

    package func verdict(claims: TokenClaims, grantedScopes: [String]) -> Verdict {
        let scopes = Set(grantedScopes + claims.scopes)
        if let scope = required.scopes.first(where: scopes.contains) { return .allowed(by: "scope:" + scope) }
        let roles = Set(claims.values(at: required.rolesClaim))
        if let role = required.roles.first(where: roles.contains) { return .allowed(by: "role:" + role) }
        let groups = Set(claims.values(at: required.groupsClaim))
        if let group = required.groups.first(where: groups.contains) { return .allowed(by: "group:" + group) }
        var needs: [String] = []
        if !required.scopes.isEmpty { needs.append("the scope " + required.scopes.joined(separator: " or ")) }
        if !required.roles.isEmpty { needs.append("the role " + required.roles.joined(separator: " or ") + " (claim \(required.rolesClaim))") }
        if !required.groups.isEmpty { needs.append("the group " + required.groups.joined(separator: " or ") + " (claim \(required.groupsClaim))") }
        return .refused("The console needs " + needs.joined(separator: ", or ") + ", and your sign-in has none of them.")
    }
}
