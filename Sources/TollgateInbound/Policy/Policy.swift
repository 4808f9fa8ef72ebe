/// Per-issuer rules checked on every decision, cached or not: time window, audience, scopes.
/// (Checking them only when caching is how Oathkeeper's CVE-2021-32701 happened.)
package struct Policy: Sendable {
    package let audiences: Set<String>
    package let requiredScopes: [String]
    package let leeway: Double

    package init(audiences: [String], requiredScopes: [String], leewaySeconds: Int) {
        self.audiences = Set(audiences)
        self.requiredScopes = requiredScopes
        self.leeway = Double(leewaySeconds)
    }

    /// Nil when the claims pass; otherwise the reason, with the missing scopes for `.scope`.
    /// `extraScopes` are a caller's per-request requirement, checked the same way.
    package func violation(of claims: TokenClaims, now: Double, extraScopes: [String] = []) -> (DenialReason, missing: [String])? {
        if let exp = claims.expiresAt, Double(exp) + leeway <= now { return (.expired, []) }
        if let nbf = claims.notBefore, Double(nbf) - leeway > now { return (.notYetValid, []) }
        if let iat = claims.issuedAt, Double(iat) - leeway > now { return (.notYetValid, []) }
        if !audiences.isEmpty && !claims.audiences.contains(where: audiences.contains) { return (.audience, []) }
        let missing = Self.missingScopes(requiredScopes + extraScopes, held: claims.scopes)
        return missing.isEmpty ? nil : (.scope, missing)
    }

    /// The required scopes not held, in the order required (all-of semantics).
    package static func missingScopes(_ required: [String], held: [String]) -> [String] {
        guard !required.isEmpty else { return [] }
        // A handful of scopes each side: a linear scan beats building a Set per request.
        guard required.count * held.count > 64 else { return required.filter { !held.contains($0) } }
        let heldSet = Set(held)
        return required.filter { !heldSet.contains($0) }
    }
}
