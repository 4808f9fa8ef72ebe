/// One forward-auth rule: which requests it matches and what it lets through. A class: the
/// rules are scanned per request, and a reference is cheaper to hand around than a copy.
public final class AccessRule: Sendable {
    public enum Access: Sendable {
        /// A token the issuers accept that also meets the requirement.
        case token(RouteRequirement)
        /// Anyone, without looking at a token.
        case anonymous
    }

    public let name: String
    /// Position in `forward_auth.rules`, for per-rule tables kept by the caller.
    public let index: Int
    /// Upper case; empty matches every method. A handful at most: a scan, no hashing.
    let methods: [String]
    let path: PathPattern
    /// An exact host, or a suffix starting with `.` for `*.example.org`.
    let host: String?
    public let access: Access
    /// Claim → header for this rule, replacing the global map when set.
    public let claimsToHeaders: [(claim: String, header: String)]?

    public init(name: String, index: Int = 0, methods: [String], path: String, host: String?, access: Access,
                claimsToHeaders: [(claim: String, header: String)]? = nil) throws {
        self.name = name
        self.index = index
        self.methods = methods.map { $0.uppercased() }
        self.path = try PathPattern(path)
        self.host = host.map { $0.lowercased().hasPrefix("*.") ? String($0.lowercased().dropFirst()) : $0.lowercased() }
        self.access = access
        self.claimsToHeaders = claimsToHeaders
    }

    func matches(_ facts: RequestFacts) -> Bool {
        if !methods.isEmpty && !methods.contains(facts.method) { return false }
        if let host {
            guard let actual = facts.host else { return false }
            if host.hasPrefix(".") ? !actual.hasSuffix(host) : actual != host { return false }
        }
        return path.matches(facts.path)
    }
}

/// The configured rules in order, and what happens when none matches.
public struct AccessRules: Sendable {
    public let rules: [AccessRule]
    public let denyUnmatched: Bool
    /// Whether any rule looks at the host (otherwise the host is not worked out per request).
    public let readsHost: Bool

    public static let none = AccessRules(rules: [], denyUnmatched: false)

    public init(rules: [AccessRule], denyUnmatched: Bool) {
        self.rules = rules
        self.denyUnmatched = denyUnmatched
        readsHost = rules.contains { $0.host != nil }
    }

    public var isEmpty: Bool { rules.isEmpty && !denyUnmatched }

    /// Names every role claim path the rules read, so the decoder picks them up in its one pass.
    public var claimPaths: [String] {
        rules.compactMap { rule in
            guard case .token(let requirement) = rule.access, !requirement.roles.isEmpty else { return nil }
            return requirement.rolesClaim
        }
    }

    /// The first rule matching `facts`.
    public func rule(for facts: RequestFacts) -> AccessRule? {
        for rule in rules where rule.matches(facts) { return rule }
        return nil
    }
}
