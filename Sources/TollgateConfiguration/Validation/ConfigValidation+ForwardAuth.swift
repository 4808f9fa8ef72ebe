import TollgateKit

extension TollgateConfig {
    /// Problems in `forward_auth.rules` and `forward_auth.trusted_proxies`, each naming its key path.
    func forwardAuthRuleErrors() -> [ConfigError] {
        var problems = ConfigProblems()
        for (index, network) in forwardAuth.trustedProxies.enumerated() {
            problems.check(IPNetwork(network) != nil, "forward_auth.trusted_proxies[\(index)]", "not an IP address or CIDR network (10.0.0.0/8, ::1/128)")
        }
        problems.check(Self.isClaimPath(forwardAuth.groupsClaim), "forward_auth.groups_claim", "a claim name, or names joined by '.' (realm_access.roles)")
        let issuerNames = Set(inbound.issuers.flatMap { [$0.name, issuerURL(of: $0)] })
        var names = Set<String>()
        for (index, rule) in forwardAuth.rules.enumerated() {
            let at = "forward_auth.rules[\(index)]"
            if let name = rule.name {
                problems.check(
                    !name.isEmpty && name.count <= 64 && PrintableText.clean(name, limit: 64) == name, "\(at).name", "1-64 printable ASCII characters")
                problems.check(names.insert(name).inserted, "\(at).name", "duplicate rule name")
            }
            problems.check(!rule.path.isEmpty, "\(at).path", "required: a regular expression for the request path, e.g. ^/dicom-web/")
            if !rule.path.isEmpty { problems.check((try? Regex(rule.path)) != nil, "\(at).path", "not a valid regular expression") }
            for (position, method) in rule.methods.enumerated() {
                problems.check(!method.isEmpty && method.allSatisfy { $0.isASCII && $0.isLetter }, "\(at).methods[\(position)]", "not an HTTP method")
            }
            if let host = rule.host {
                let bare = host.hasPrefix("*.") ? String(host.dropFirst(2)) : host
                problems.check(
                    !bare.isEmpty && bare.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-.[]:".contains($0)) }, "\(at).host",
                    "an exact host name or *.suffix, without port")
            }
            if rule.allowAnonymous {
                problems.check(!rule.hasRequirements, "\(at).allow_anonymous", "an anonymous rule cannot also require scopes, audiences, issuers or roles")
            }
            for (key, values) in [("scopes", rule.scopes), ("any_scopes", rule.anyScopes), ("audiences", rule.audiences), ("roles", rule.roles)] {
                problems.check(values.allSatisfy { !$0.isEmpty && !$0.contains(" ") }, "\(at).\(key)", "entries must be non-empty and contain no spaces")
            }
            for (position, issuer) in rule.issuers.enumerated() {
                problems.check(issuerNames.contains(issuer), "\(at).issuers[\(position)]", "no inbound issuer named \(issuer)")
            }
            problems.check(Self.isClaimPath(rule.rolesClaim), "\(at).roles_claim", "a claim name, or names joined by '.' (realm_access.roles)")
            for (claim, header) in (rule.claimsToHeaders ?? [:]).sorted(by: { $0.key < $1.key }) {
                problems.errors += headerClaimErrors(claim: claim, header: header, at: "\(at).claims_to_headers.\(claim)")
            }
        }
        return problems.errors
    }

    /// Forward-auth settings that load but would refuse a proxy the operator probably meant to trust.
    var forwardAuthWarnings: [ConfigError] {
        var warnings: [ConfigError] = []
        let loopbackOnly = forwardAuth.trustedProxies.allSatisfy { IPNetwork($0)?.isLoopbackOnly ?? true }
        if !forwardAuth.rules.isEmpty && !Self.isLoopback(server.host) && loopbackOnly && forwardAuth.proxy != .envoy {
            warnings.append(
                ConfigError(
                    path: "forward_auth.trusted_proxies",
                    message:
                        "only loopback is trusted, but server.host \(server.host) is reachable from elsewhere: a proxy on another address (a Kubernetes ingress, Traefik) is refused with 403 untrusted_proxy until its address or network is listed here"
                ))
        }
        return warnings
    }

    func headerClaimErrors(claim: String, header: String, at path: String) -> [ConfigError] {
        var problems = ConfigProblems()
        problems.check(
            Self.isForwardableClaim(claim) || userinfoClaims.contains(claim), path,
            "unknown claim (use one of \(Self.forwardableClaims.sorted().joined(separator: ", ")), a claim an issuer's userinfo.claims lists, or a dotted claim path such as realm_access.roles)"
        )
        problems.check(HeaderRules.isValidName(header), path, "not a valid header name")
        return problems.errors
    }

    /// A named claim Tollgate reads, `roles`/`groups`, or a dotted path into the token.
    static func isForwardableClaim(_ claim: String) -> Bool {
        forwardableClaims.contains(claim) || claim == "roles" || claim == "groups" || (claim.contains(".") && isClaimPath(claim))
    }

    /// Claim paths the forward-auth identity headers read beyond the named claims.
    package var forwardAuthHeaderClaimPaths: [String] {
        let maps = [forwardAuth.claimsToHeaders] + forwardAuth.rules.compactMap(\.claimsToHeaders)
        return maps.flatMap(\.keys).filter { !Self.forwardableClaims.contains($0) && !userinfoClaims.contains($0) }
    }

    /// Claims some issuer takes from userinfo: headers may name them.
    var userinfoClaims: Set<String> {
        Set(inbound.issuers.filter(\.userinfo.enabled).flatMap(\.userinfo.claims))
    }
}
