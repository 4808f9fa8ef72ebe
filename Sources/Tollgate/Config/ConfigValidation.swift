import Foundation

extension TollgateConfig {
    /// Every semantic problem at once, each naming its key path. Empty when the config is usable.
    public func validationErrors(fileExists: (String) -> Bool = { FileManager.default.isReadableFile(atPath: $0) }) -> [ConfigError] {
        var errors: [ConfigError] = []
        func check(_ condition: Bool, _ path: String, _ message: String) {
            if !condition { errors.append(ConfigError(path: path, message: message)) }
        }

        check(!server.host.isEmpty, "server.host", "must not be empty")
        check((1...65535).contains(server.port), "server.port", "must be between 1 and 65535")
        check(server.maxBodyBytes >= 1024, "server.max_body_bytes", "must be at least 1024")
        check((0...3600).contains(server.shutdownGraceSeconds), "server.shutdown_grace_seconds", "must be between 0 and 3600")

        check(inbound.cache.maxEntries >= 1, "inbound.cache.max_entries", "must be at least 1")
        check(inbound.cache.maxTTLSeconds >= 0, "inbound.cache.max_ttl_seconds", "must not be negative")
        check(inbound.cache.negativeTTLSeconds >= 0, "inbound.cache.negative_ttl_seconds", "must not be negative")

        var names = Set<String>()
        for (index, issuer) in inbound.issuers.enumerated() {
            let at = "inbound.issuers[\(index)]"
            check(Self.isValidName(issuer.name), "\(at).name", "must be 1-64 characters of a-z, 0-9, '-' or '_'")
            check(names.insert(issuer.name).inserted, "\(at).name", "duplicate issuer name")
            if issuer.embedded {
                check(issuer.issuer == nil, "\(at).issuer", "must be absent when embedded is true (the dev issuer's URL is used)")
                check(devIssuer.enabled, "\(at).embedded", "refers to the embedded dev issuer, but dev_issuer.enabled is false")
            } else if let url = issuer.issuer {
                check(Self.isHTTPURL(url), "\(at).issuer", "must be an absolute http(s) URL")
            } else {
                errors.append(ConfigError(path: "\(at).issuer", message: "required key is missing (or set embedded: true)"))
            }
            check((0...600).contains(issuer.leewaySeconds), "\(at).leeway_seconds", "must be between 0 and 600")
            check((64...1_048_576).contains(issuer.maxTokenBytes), "\(at).max_token_bytes", "must be between 64 and 1048576")
            for (i, scope) in issuer.requiredScopes.enumerated() {
                check(!scope.isEmpty && !scope.contains(" "), "\(at).required_scopes[\(i)]", "must be one scope token without spaces")
            }
            if let caFile = issuer.tls.caFile {
                check(fileExists(caFile), "\(at).tls.ca_file", "file is not readable")
            }
            if issuer.mode != .introspection {
                check(!issuer.algorithms.isEmpty, "\(at).algorithms", "must list at least one algorithm")
                if let uri = issuer.jwksURI {
                    check(Self.isHTTPURL(uri), "\(at).jwks_uri", "must be an absolute http(s) URL")
                } else {
                    check(issuer.discovery, "\(at).jwks_uri", "required when discovery is false")
                }
                if let typ = issuer.requireTyp {
                    check(["at+jwt", "application/at+jwt", "JWT"].contains(typ), "\(at).require_typ", "must be at+jwt, application/at+jwt or JWT")
                }
                let jwks = issuer.jwks
                check(jwks.minRefreshSeconds >= 1, "\(at).jwks.min_refresh_seconds", "must be at least 1")
                check(jwks.maxCacheSeconds >= jwks.minRefreshSeconds, "\(at).jwks.max_cache_seconds", "must be at least min_refresh_seconds")
                check(jwks.maxStaleSeconds >= 0, "\(at).jwks.max_stale_seconds", "must not be negative")
                check(jwks.unknownKidRefetchIntervalSeconds >= 0, "\(at).jwks.unknown_kid_refetch_interval_seconds", "must not be negative")
            }
            if issuer.mode == .jwt {
                check(issuer.introspection == nil, "\(at).introspection", "not used in jwt mode (use auto for both)")
            }
            if issuer.mode != .jwt {
                guard let introspection = issuer.introspection else {
                    if issuer.mode == .introspection {
                        errors.append(ConfigError(path: "\(at).introspection", message: "required when mode is introspection"))
                    }
                    continue
                }
                if let endpoint = introspection.endpoint {
                    check(Self.isHTTPURL(endpoint), "\(at).introspection.endpoint", "must be an absolute http(s) URL")
                } else {
                    check(issuer.discovery, "\(at).introspection.endpoint", "required when discovery is false")
                }
                check(!introspection.clientID.isEmpty, "\(at).introspection.client_id", "must not be empty")
                check(!introspection.clientSecret.value.isEmpty, "\(at).introspection.client_secret", "must not be empty")
                check((1...60000).contains(introspection.timeoutMS), "\(at).introspection.timeout_ms", "must be between 1 and 60000")
            }
        }
        let opaqueDefaults = inbound.issuers.filter(\.defaultForOpaque)
        let introspecting = inbound.issuers.filter { $0.introspection != nil }
        check(opaqueDefaults.count <= 1, "inbound.issuers", "at most one issuer may set default_for_opaque")
        for (index, issuer) in inbound.issuers.enumerated() where issuer.defaultForOpaque {
            check(issuer.introspection != nil, "inbound.issuers[\(index)].default_for_opaque", "needs an introspection block")
        }
        if introspecting.count > 1 && opaqueDefaults.isEmpty {
            errors.append(ConfigError(path: "inbound.issuers", message: "with several introspecting issuers, mark the one for opaque tokens with default_for_opaque: true"))
        }
        for (claim, header) in forwardAuth.claimsToHeaders.sorted(by: { $0.key < $1.key }) {
            check(Self.forwardableClaims.contains(claim), "forward_auth.claims_to_headers.\(claim)", "unknown claim (use one of \(Self.forwardableClaims.sorted().joined(separator: ", ")))")
            check(Self.isHeaderName(header), "forward_auth.claims_to_headers.\(claim)", "not a valid header name")
        }
        check(Self.isHeaderName(forwardAuth.requiredScopesHeader), "forward_auth.required_scopes_header", "must be a valid header name")

        if devIssuer.enabled {
            check((1...86400).contains(devIssuer.tokenTTLSeconds), "dev_issuer.token_ttl_seconds", "must be between 1 and 86400")
            check(!devIssuer.clients.isEmpty, "dev_issuer.clients", "must list at least one client when the dev issuer is enabled")
            if let issuer = devIssuer.issuer {
                check(Self.isHTTPURL(issuer) && issuer.hasSuffix("/dev-issuer"), "dev_issuer.issuer", "must be an absolute http(s) URL ending in /dev-issuer")
            }
            if let keyFile = devIssuer.signingKeyFile {
                check(fileExists(keyFile), "dev_issuer.signing_key_file", "file is not readable")
            }
            var clientIDs = Set<String>()
            for (index, client) in devIssuer.clients.enumerated() {
                let at = "dev_issuer.clients[\(index)]"
                check(!client.clientID.isEmpty, "\(at).client_id", "must not be empty")
                check(clientIDs.insert(client.clientID).inserted, "\(at).client_id", "duplicate client_id")
                check(!client.clientSecret.value.isEmpty, "\(at).client_secret", "must not be empty")
            }
        }

        errors += outboundValidationErrors(fileExists: fileExists)
        errors += orthancValidationErrors(fileExists: fileExists)
        if inbound.issuers.isEmpty && !devIssuer.enabled && outbound.servers.isEmpty {
            errors.append(ConfigError(path: "", message: "nothing to do: configure inbound.issuers, outbound.servers or enable dev_issuer"))
        }
        return errors
    }

    /// Throws every validation problem together.
    public func validated() throws -> TollgateConfig {
        let errors = validationErrors()
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        return self
    }

    /// The embedded dev issuer's identifier: explicit, or derived from where the server listens.
    public var devIssuerURL: String {
        if let explicit = devIssuer.issuer { return explicit }
        let host: String
        switch server.host {
        case "0.0.0.0", "": host = "127.0.0.1"
        case "::", "[::]": host = "[::1]"
        case let h where h.contains(":") && !h.hasPrefix("["): host = "[\(h)]"
        case let h: host = h
        }
        return "http://\(host):\(server.port)/dev-issuer"
    }

    /// The issuer identifier an entry stands for, resolving `embedded: true`.
    public func issuerURL(of issuer: IssuerConfig) -> String {
        issuer.embedded ? devIssuerURL : (issuer.issuer ?? "")
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    /// Claims `GET /auth` can copy into identity headers (`issuer` is the issuer's alias).
    static let forwardableClaims: Set<String> = ["sub", "client_id", "scope", "issuer", "iss", "aud", "username", "user_id", "exp"]

    static func isHeaderName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains($0) }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else { return false }
        return scheme == "http" || scheme == "https"
    }
}
