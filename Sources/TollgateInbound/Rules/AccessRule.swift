/// One forward-auth rule: which requests it matches and what it lets through. A class: the
/// rules are scanned per request, and a reference is cheaper to hand around than a copy.
package final class AccessRule: Sendable {
    package enum Access: Sendable {
        /// A token the issuers accept that also meets the requirement.
        case token(RouteRequirement)
        /// Anyone, without looking at a token.
        case anonymous
    }

    package let name: String
    /// Position in `forward_auth.rules`, for per-rule tables kept by the caller.
    package let index: Int
    /// Upper case; empty matches every method. A handful at most: a scan, no hashing.
    let methods: [String]
    let path: PathPattern
    /// An exact host, or a suffix starting with `.` for `*.example.org`.
    let host: String?
    package let access: Access
    /// Claim → header for this rule, replacing the global map when set.
    package let claimsToHeaders: [(claim: String, header: String)]?

    package init(
        name: String, index: Int = 0, methods: [String], path: String, host: String?, access: Access,
        claimsToHeaders: [(claim: String, header: String)]? = nil
    ) throws {
        self.name = name
        self.index = index
        self.methods = methods.map { $0.uppercased() }
        self.path = try PathPattern(path)
        self.host = host.map { $0.lowercased().hasPrefix("*.") ? String($0.lowercased().dropFirst()) : $0.lowercased() }
        self.access = access
        self.claimsToHeaders = claimsToHeaders
    }

    enum Match { case yes, no, needs(String) }

    /// Whether the rule matches; `needs` when the path matches but the proxy did not say the
    /// method or host the rule names (so it can neither match nor be skipped).
    func match(_ facts: RequestFacts) -> Match {
        if !methods.isEmpty, let method = facts.method, !methods.contains(method) { return .no }
        if let host, let actual = facts.host, host.hasPrefix(".") ? !actual.hasSuffix(host) : actual != host { return .no }
        guard path.matches(facts.path) else { return .no }
        if !methods.isEmpty && facts.method == nil { return .needs("the method") }
        if host != nil && facts.host == nil { return .needs("the host") }
        return .yes
    }
}

/// The configured rules in order, and what happens when none matches or nothing says which
/// request this is.
package struct AccessRules: Sendable {
    package let rules: [AccessRule]
    /// A request no rule matches is refused (`default: deny`, the default once rules exist).
    package let denyUnmatched: Bool
    /// A request nothing describes may pass as "any accepted token": only when `default:
    /// authenticated` is written out.
    package let allowsUndescribed: Bool
    /// Whether any rule looks at the host (otherwise the host is not worked out per request).
    package let readsHost: Bool

    package static let none = AccessRules(rules: [], denyUnmatched: false, allowsUndescribed: true)

    package init(rules: [AccessRule], denyUnmatched: Bool, allowsUndescribed: Bool = false) {
        self.rules = rules
        self.denyUnmatched = denyUnmatched
        self.allowsUndescribed = allowsUndescribed
        readsHost = rules.contains { $0.host != nil }
    }

    /// No rules and nothing denied: `/auth` passes any accepted token without reading the request.
    package var isEmpty: Bool { rules.isEmpty && !denyUnmatched }

    /// Names every role claim path the rules read, so the decoder picks them up in its one pass.
    package var claimPaths: [String] {
        rules.compactMap { rule in
            guard case .token(let requirement) = rule.access, !requirement.roles.isEmpty else { return nil }
            return requirement.rolesClaim
        }
    }

    /// What the rules make of a request.
    package enum Verdict: Sendable {
        /// Anyone, without looking at a token.
        case anonymous(AccessRule)
        /// A token that meets the requirement; the rule that set it, if one did.
        case token(RouteRequirement, AccessRule?)
        /// Refused without looking at the token: `noRule` or `unknownRequest`, and why.
        case refused(DenialReason, String)
    }

    /// The first matching rule decides; nil facts (nothing says which request this is) and a
    /// rule that needs a fact the proxy did not give are refused, never guessed.
    package func verdict(for facts: RequestFacts?) -> Verdict {
        guard let facts else {
            return allowsUndescribed
                ? .token(.none, nil)
                : .refused(.unknownRequest, "nothing says which request this is (no forwarded method and URI, and no path under /auth/)")
        }
        for rule in rules {
            switch rule.match(facts) {
            case .no: continue
            case .needs(let fact): return .refused(.unknownRequest, "rule \(rule.name) names \(fact), which the proxy did not send")
            case .yes:
                switch rule.access {
                case .anonymous: return .anonymous(rule)
                case .token(let requirement): return .token(requirement, rule)
                }
            }
        }
        return denyUnmatched ? .refused(.noRule, "no rule matches") : .token(.none, nil)
    }
}
