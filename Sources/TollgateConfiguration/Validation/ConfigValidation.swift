import TollgateKit
package import Foundation

extension TollgateConfig {
    /// Every semantic problem at once, each naming its key path. Empty when the config is usable.
    package func validationErrors(
        fileExists: (String) -> Bool = { FileManager.default.isReadableFile(atPath: $0) },
        readFile: (String) -> Data? = { FileManager.default.contents(atPath: $0) }
    ) -> [ConfigError] {
        var problems = ConfigProblems()

        problems.check(!server.host.isEmpty, "server.host", "must not be empty")
        problems.check((1...65535).contains(server.port), "server.port", "must be between 1 and 65535")
        problems.check(server.maxBodyBytes >= 1024, "server.max_body_bytes", "must be at least 1024")
        problems.check((0...3600).contains(server.shutdownTimeoutSeconds), "server.shutdown_timeout_seconds", "must be between 0 and 3600")
        problems.check((0...300).contains(server.shutdownDelaySeconds), "server.shutdown_delay_seconds", "must be between 0 and 300")
        problems.check((1...3600).contains(server.idleTimeoutSeconds), "server.idle_timeout_seconds", "must be between 1 and 3600")
        problems.check((1...1_000_000).contains(server.maxConnections), "server.max_connections", "must be between 1 and 1000000")
        if let tls = server.tls {
            problems.check(fileExists(tls.certFile), "server.tls.cert_file", "file is not readable")
            problems.check(fileExists(tls.keyFile), "server.tls.key_file", "file is not readable")
            if let caFile = tls.clientCAFile {
                problems.check(fileExists(caFile), "server.tls.client_ca_file", "file is not readable")
                problems.check(tls.clientAuth != .none, "server.tls.client_ca_file", "only used with client_auth optional or required")
            } else {
                problems.check(tls.clientAuth == .none, "server.tls.client_ca_file", "required with client_auth \(tls.clientAuth.rawValue)")
            }
            problems.check((1...3600).contains(tls.reloadCheckSeconds), "server.tls.reload_check_seconds", "must be between 1 and 3600")
        }

        problems.check(Self.isHTTPURL(tracing.endpoint), "tracing.endpoint", "must be an absolute http(s) URL")
        problems.check(!tracing.serviceName.isEmpty, "tracing.service_name", "must not be empty")
        problems.check((0...1).contains(tracing.sampleRatio), "tracing.sample_ratio", "must be between 0 and 1")
        problems.check((10...60000).contains(tracing.batchDelayMS), "tracing.batch_delay_ms", "must be between 10 and 60000")

        problems.check(inbound.cache.maxEntries >= 1, "inbound.cache.max_entries", "must be at least 1")
        problems.check(inbound.cache.maxTTLSeconds >= 0, "inbound.cache.max_ttl_seconds", "must not be negative")
        problems.check(inbound.cache.negativeTTLSeconds >= 0, "inbound.cache.negative_ttl_seconds", "must not be negative")
        problems.check(
            (1...3600).contains(inbound.dpop.proofMaxAgeSeconds), "inbound.dpop.proof_max_age_seconds", "must be between 1 and 3600")
        problems.check((0...300).contains(inbound.dpop.clockSkewSeconds), "inbound.dpop.clock_skew_seconds", "must be between 0 and 300")
        problems.check(
            (1000...10_000_000).contains(inbound.dpop.replayCacheEntries), "inbound.dpop.replay_cache_entries", "must be between 1000 and 10000000")
        problems.check(
            (10...86400).contains(inbound.dpop.nonceLifetimeSeconds), "inbound.dpop.nonce_lifetime_seconds", "must be between 10 and 86400")
        if let keyFile = inbound.dpop.nonceKeyFile {
            problems.check(inbound.dpop.requireNonce, "inbound.dpop.nonce_key_file", "only used with require_nonce: true")
            problems.check(fileExists(keyFile), "inbound.dpop.nonce_key_file", "file is not readable")
        }

        problems.errors += inboundValidationErrors(fileExists: fileExists)
        problems.errors += registryValidationErrors()
        problems.errors += auditValidationErrors(fileExists: fileExists)
        problems.errors += consoleValidationErrors(fileExists: fileExists)
        for (claim, header) in forwardAuth.claimsToHeaders.sorted(by: { $0.key < $1.key }) {
            problems.errors += headerClaimErrors(claim: claim, header: header, at: "forward_auth.claims_to_headers.\(claim)")
        }
        problems.errors += forwardAuthRuleErrors()
        problems.check(HeaderRules.isValidName(forwardAuth.requiredScopesHeader), "forward_auth.required_scopes_header", "must be a valid header name")
        if let certificate = forwardAuth.clientCertificate {
            problems.check(HeaderRules.isValidName(certificate.header), "forward_auth.client_certificate.header", "must be a valid header name")
            problems.check(
                !["authorization", "dpop", "host", "cookie"].contains(certificate.header.lowercased()), "forward_auth.client_certificate.header",
                "must be a header of its own")
        }
        problems.check(
            [401, 403, 500, 502, 503, 504].contains(forwardAuth.statusOnUnavailable), "forward_auth.status_on_unavailable",
            "use 401 or 403 (nginx passes only 2xx/401/403) or 500, 502, 503, 504")
        problems.check([400, 401, 403].contains(forwardAuth.statusOnMalformed), "forward_auth.status_on_malformed", "use 400, 401 or 403")
        let injection = forwardAuth.outboundTokens
        // Authorization is allowed: Traefik's authResponseHeaders and Envoy's allowed_upstream_headers copy names as they are.
        problems.check(
            HeaderRules.isValidName(injection.header) && !Self.answerFramingHeaders.contains(injection.header.lowercased()),
            "forward_auth.outbound_tokens.header",
            "must be a valid header name that does not frame or describe the answer (not Content-Length, Content-Type, Connection, Transfer-Encoding, Cache-Control, Set-Cookie, WWW-Authenticate)"
        )
        for (server, scopes) in injection.requiredScopes.sorted(by: { $0.key < $1.key }) {
            let at = "forward_auth.outbound_tokens.required_scopes.\(server)"
            problems.check(outbound.servers[server] != nil, at, "no outbound server named \(server)")
            problems.check(!scopes.isEmpty && scopes.allSatisfy { !$0.isEmpty && !$0.contains(" ") }, at, "list at least one scope (no spaces)")
        }
        if injection.auth == .admin && !injection.requiredScopes.isEmpty {
            problems.add("forward_auth.outbound_tokens.required_scopes", "only used with auth: bearer")
        }

        if devIssuer.enabled {
            problems.check(
                devIssuer.allowNonLoopback || Self.isLoopback(server.host), "dev_issuer.enabled",
                "the embedded dev issuer mints tokens for anyone who reaches it, and server.host \(server.host) is not a loopback address: listen on 127.0.0.1 or ::1, disable the dev issuer, or set dev_issuer.allow_non_loopback: true"
            )
            problems.check((1...86400).contains(devIssuer.tokenTTLSeconds), "dev_issuer.token_ttl_seconds", "must be between 1 and 86400")
            problems.check(!devIssuer.clients.isEmpty, "dev_issuer.clients", "must list at least one client when the dev issuer is enabled")
            if let issuer = devIssuer.issuer {
                problems.check(
                    Self.isHTTPURL(issuer) && issuer.hasSuffix("/dev-issuer"), "dev_issuer.issuer", "must be an absolute http(s) URL ending in /dev-issuer")
            }
            if let keyFile = devIssuer.signingKeyFile {
                problems.check(fileExists(keyFile), "dev_issuer.signing_key_file", "file is not readable")
            }
            var clientIDs = Set<String>()
            for (index, client) in devIssuer.clients.enumerated() {
                let at = "dev_issuer.clients[\(index)]"
                problems.check(!client.clientID.isEmpty, "\(at).client_id", "must not be empty")
                problems.check(clientIDs.insert(client.clientID).inserted, "\(at).client_id", "duplicate client_id")
                problems.check(!client.clientSecret.value.isEmpty, "\(at).client_secret", "must not be empty")
            }
        }

        problems.errors += outboundValidationErrors(fileExists: fileExists)
        problems.errors += orthancValidationErrors(fileExists: fileExists, readFile: readFile)
        if inbound.issuers.isEmpty && !devIssuer.enabled && outbound.servers.isEmpty {
            problems.add("", "nothing to do: configure inbound.issuers, outbound.servers or enable dev_issuer")
        }
        return problems.errors
    }

    /// The decode problems `ConfigLoader.decode` found and the semantic ones, in one list: a key that
    /// failed to decode took its default, so a semantic complaint about it (or about what contains
    /// it) would be about the default, and is left out; so is "nothing to do" when something failed.
    package func allProblems(decoding: [ConfigError]) -> [ConfigError] {
        guard !decoding.isEmpty else { return validationErrors() }
        let failed = decoding.map(\.path)
        let semantic = validationErrors().filter { problem in
            !problem.path.isEmpty
                && !failed.contains { path in Self.overlaps(path, problem.path) }
        }
        return decoding + semantic
    }

    /// Whether one key path is the other or lies under it (`a.b` and `a.b.c`, `a[0]` and `a`).
    static func overlaps(_ first: String, _ second: String) -> Bool {
        func under(_ inner: String, _ outer: String) -> Bool {
            inner == outer || (inner.hasPrefix(outer) && [".", "["].contains(inner.dropFirst(outer.count).first.map(String.init) ?? ""))
        }
        return !first.isEmpty && !second.isEmpty && (under(first, second) || under(second, first))
    }

    /// Throws every validation problem together.
    package func validated() throws -> TollgateConfig {
        let errors = validationErrors()
        if !errors.isEmpty { throw ConfigErrors(errors: errors) }
        return self
    }

    /// The embedded dev issuer's identifier: explicit, or derived from where the server listens.
    package var devIssuerURL: String {
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
    package func issuerURL(of issuer: IssuerConfig) -> String {
        issuer.embedded ? devIssuerURL : (issuer.issuer ?? "")
    }

    /// Settings that load but are probably not what the operator meant, each naming its key path.
    /// `check-config` prints them and `serve` logs them at warning.
    package var warnings: [ConfigError] { forwardAuthWarnings + orthancWarnings }

    /// 127.0.0.0/8, ::1 and localhost; `0.0.0.0`, `::` and every other address are reachable from outside.
    static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-" || $0 == "_") }
    }

    static let answerFramingHeaders: Set<String> = [
        "content-length", "content-type", "connection", "transfer-encoding", "cache-control", "set-cookie", "www-authenticate", "host", "keep-alive", "upgrade",
        "trailer",
    ]

    /// Claims `GET /auth` can copy into identity headers (`issuer` is the issuer's alias).
    static let forwardableClaims: Set<String> = ["sub", "client_id", "scope", "issuer", "iss", "aud", "username", "user_id", "exp"]

    /// An absolute http(s) URL with a host: what every configured or key-file endpoint must be.
    package static func isHTTPURL(_ text: String) -> Bool {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host, !host.isEmpty else { return false }
        return scheme == "http" || scheme == "https"
    }
}
