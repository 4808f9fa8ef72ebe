import TollgateKit

extension TollgateConfig {
    /// Problems in `inbound.issuers`, each naming its key path.
    func inboundValidationErrors(fileExists: (String) -> Bool) -> [ConfigError] {
        var problems = ConfigProblems()
        var names = Set<String>()
        for (index, issuer) in inbound.issuers.enumerated() {
            let at = "inbound.issuers[\(index)]"
            problems.check(Self.isValidName(issuer.name), "\(at).name", "must be 1-64 characters of a-z, 0-9, '-' or '_'")
            problems.check(names.insert(issuer.name).inserted, "\(at).name", "duplicate issuer name")
            if issuer.embedded {
                problems.check(issuer.issuer == nil, "\(at).issuer", "must be absent when embedded is true (the dev issuer's URL is used)")
                problems.check(devIssuer.enabled, "\(at).embedded", "refers to the embedded dev issuer, but dev_issuer.enabled is false")
            } else if let url = issuer.issuer {
                problems.check(Self.isHTTPURL(url), "\(at).issuer", "must be an absolute http(s) URL")
            } else {
                problems.add("\(at).issuer", "required key is missing (or set embedded: true)")
            }
            problems.check((0...600).contains(issuer.leewaySeconds), "\(at).leeway_seconds", "must be between 0 and 600")
            problems.check((64...1_048_576).contains(issuer.maxTokenBytes), "\(at).max_token_bytes", "must be between 64 and 1048576")
            for (i, scope) in issuer.requiredScopes.enumerated() {
                problems.check(!scope.isEmpty && !scope.contains(" "), "\(at).required_scopes[\(i)]", "must be one scope token without spaces")
            }
            if let caFile = issuer.tls.caFile {
                problems.check(fileExists(caFile), "\(at).tls.ca_file", "file is not readable")
            }
            if issuer.mode != .introspection {
                problems.check(!issuer.algorithms.isEmpty, "\(at).algorithms", "must list at least one algorithm")
                if let uri = issuer.jwksURI {
                    problems.check(Self.isHTTPURL(uri), "\(at).jwks_uri", "must be an absolute http(s) URL")
                } else {
                    problems.check(issuer.discovery, "\(at).jwks_uri", "required when discovery is false")
                }
                if let typ = issuer.requireTyp {
                    problems.check(["at+jwt", "application/at+jwt", "JWT"].contains(typ), "\(at).require_typ", "must be at+jwt, application/at+jwt or JWT")
                }
                let jwks = issuer.jwks
                problems.check(jwks.minRefreshSeconds >= 1, "\(at).jwks.min_refresh_seconds", "must be at least 1")
                problems.check(jwks.maxCacheSeconds >= jwks.minRefreshSeconds, "\(at).jwks.max_cache_seconds", "must be at least min_refresh_seconds")
                problems.check(jwks.maxStaleSeconds >= 0, "\(at).jwks.max_stale_seconds", "must not be negative")
                problems.check(jwks.unknownKidRefetchIntervalSeconds >= 0, "\(at).jwks.unknown_kid_refetch_interval_seconds", "must not be negative")
            }
            if issuer.userinfo.enabled {
                let userinfo = issuer.userinfo
                if let endpoint = userinfo.endpoint {
                    problems.check(Self.isHTTPURL(endpoint), "\(at).userinfo.endpoint", "must be an absolute http(s) URL")
                } else {
                    problems.check(issuer.discovery, "\(at).userinfo.endpoint", "required when discovery is false")
                }
                problems.check((1...60000).contains(userinfo.timeoutMS), "\(at).userinfo.timeout_ms", "must be between 1 and 60000")
                for (index, claim) in userinfo.claims.enumerated() {
                    problems.check(
                        !claim.isEmpty && HeaderRules.isSafeValue(claim) && !claim.contains(" "), "\(at).userinfo.claims[\(index)]", "must be a claim name")
                    problems.check(
                        !UserinfoConfig.reserved.contains(claim), "\(at).userinfo.claims[\(index)]",
                        "\(claim) always comes from the token, never from userinfo")
                }
            }
            if issuer.mode == .jwt {
                problems.check(issuer.introspection == nil, "\(at).introspection", "not used in jwt mode (use auto for both)")
            }
            if issuer.mode != .jwt {
                guard let introspection = issuer.introspection else {
                    if issuer.mode == .introspection {
                        problems.add("\(at).introspection", "required when mode is introspection")
                    }
                    continue
                }
                if let endpoint = introspection.endpoint {
                    problems.check(Self.isHTTPURL(endpoint), "\(at).introspection.endpoint", "must be an absolute http(s) URL")
                } else {
                    problems.check(issuer.discovery, "\(at).introspection.endpoint", "required when discovery is false")
                }
                if let fallback = introspection.fallbackEndpoint {
                    problems.check(Self.isHTTPURL(fallback), "\(at).introspection.fallback_endpoint", "must be an absolute http(s) URL")
                    problems.check(
                        issuer.discovery && introspection.endpoint == nil, "\(at).introspection.fallback_endpoint",
                        "only used with discovery on and no endpoint (endpoint always wins)")
                }
                problems.check(!introspection.clientID.isEmpty, "\(at).introspection.client_id", "must not be empty")
                problems.check(!introspection.clientSecret.value.isEmpty, "\(at).introspection.client_secret", "must not be empty")
                problems.check((1...60000).contains(introspection.timeoutMS), "\(at).introspection.timeout_ms", "must be between 1 and 60000")
            }
        }
        let opaqueDefaults = inbound.issuers.filter(\.defaultForOpaque)
        let introspecting = inbound.issuers.filter { $0.introspection != nil }
        problems.check(opaqueDefaults.count <= 1, "inbound.issuers", "at most one issuer may set default_for_opaque")
        for (index, issuer) in inbound.issuers.enumerated() where issuer.defaultForOpaque {
            problems.check(issuer.introspection != nil, "inbound.issuers[\(index)].default_for_opaque", "needs an introspection block")
        }
        if introspecting.count > 1 && opaqueDefaults.isEmpty {
            problems.add("inbound.issuers", "with several introspecting issuers, mark the one for opaque tokens with default_for_opaque: true")
        }
        return problems.errors
    }
}
