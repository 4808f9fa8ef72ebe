package import TollgateConfiguration

extension AccessRules {
    /// `forward_auth.rules` and `forward_auth.default` (`deny` unless written out, once rules exist); `issuerAliases` maps every configured
    /// issuer identifier and alias to its alias, so a rule may name either.
    package init(config: ForwardAuthConfig, issuerAliases: [String: String]) throws {
        let rules = try config.rules.enumerated().map { index, rule in
            let access: AccessRule.Access =
                rule.allowAnonymous
                ? .anonymous
                : .token(
                    RouteRequirement(
                        scopes: rule.scopes, anyScopes: rule.anyScopes, audiences: Set(rule.audiences),
                        issuers: Set(rule.issuers.compactMap { issuerAliases[$0] }), roles: Set(rule.roles), rolesClaim: rule.rolesClaim))
            return try AccessRule(
                name: rule.name ?? "rules[\(index)]", index: index, methods: rule.methods, path: rule.path, host: rule.host, access: access,
                claimsToHeaders: rule.claimsToHeaders.map { $0.sorted { $0.key < $1.key }.map { (claim: $0.key, header: $0.value) } })
        }
        self.init(rules: rules, denyUnmatched: config.effectiveDefault == .deny, allowsUndescribed: config.default == .authenticated)
    }
}
