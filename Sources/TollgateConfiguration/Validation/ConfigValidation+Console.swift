import Foundation

extension TollgateConfig {
    /// Problems in `console`, each naming its key path; checked only when it is on.
    func consoleValidationErrors(fileExists: (String) -> Bool) -> [ConfigError] {
        guard console.enabled else { return [] }
        var problems = ConfigProblems()
        switch console.auth {
        case .oidc:
            let oidc = console.oidc
            if let base = console.baseURL {
                let parsed = URLComponents(string: base)
                problems.check(
                    Self.isHTTPURL(base) && (parsed?.query ?? "").isEmpty && (parsed?.fragment ?? "").isEmpty, "console.base_url",
                    "must be Tollgate's absolute http(s) URL as browsers reach it, without query or fragment")
                problems.check(
                    parsed?.scheme?.lowercased() == "https" || ["127.0.0.1", "localhost", "::1"].contains(parsed?.host ?? ""), "console.base_url",
                    "must be https (the session cookie is Secure); plain http only on loopback")
            } else {
                problems.add("console.base_url", "is required with auth oidc: the IdP sends the browser back to <base_url>/console/callback")
            }
            problems.check(Self.isHTTPURL(oidc.issuer), "console.oidc.issuer", "must be an absolute http(s) URL (its discovery names the endpoints)")
            problems.check(!oidc.clientID.isEmpty, "console.oidc.client_id", "is required with auth oidc")
            if oidc.authMethod == .none {
                problems.check(oidc.clientSecret == nil, "console.oidc.client_secret", "not used with auth_method none")
            } else {
                problems.check(
                    !(oidc.clientSecret?.value ?? "").isEmpty, "console.oidc.client_secret",
                    "is required with auth_method \(oidc.authMethod.rawValue) (or set auth_method: none for a public client)")
            }
            problems.check(oidc.scopes.contains("openid"), "console.oidc.scopes", "must contain openid: the person is known by the ID token")
            problems.check((1000...60_000).contains(oidc.timeoutMS), "console.oidc.timeout_ms", "must be 1000–60000")
            if let caFile = oidc.tls.caFile { problems.check(fileExists(caFile), "console.oidc.tls.ca_file", "file is not readable") }
            problems.check(
                !console.required.isEmpty, "console.required",
                "name at least one of scopes, roles or groups: signing in at the IdP alone must not open the console")
            for (key, path) in [("roles_claim", console.required.rolesClaim), ("groups_claim", console.required.groupsClaim)] {
                problems.check(
                    !path.isEmpty && !path.split(separator: ".", omittingEmptySubsequences: false).contains(where: \.isEmpty),
                    "console.required.\(key)", "must be a dotted claim path such as realm_access.roles")
            }
        case .mtls:
            problems.check(
                (server.tls?.clientAuth ?? ServerTLSConfig.ClientAuth.none) != ServerTLSConfig.ClientAuth.none, "console.auth",
                "mtls needs server.tls with client_auth optional or required")
            problems.check(
                !admin.clientCertificates.isEmpty, "console.auth", "mtls lets in the certificates named in admin.client_certificates: name at least one")
        }
        if console.session.store == .registry {
            problems.check(registry.enabled, "console.session.store", "registry needs registry.enabled: true")
        }
        problems.check((60...86_400).contains(console.session.idleTimeoutSeconds), "console.session.idle_timeout_seconds", "must be 60–86400")
        problems.check(
            (300...604_800).contains(console.session.absoluteTimeoutSeconds) && console.session.absoluteTimeoutSeconds >= console.session.idleTimeoutSeconds,
            "console.session.absolute_timeout_seconds", "must be 300–604800 and at least idle_timeout_seconds")
        return problems.errors
    }
}
