import Foundation
import TollgateKit
extension TollgateConfig {
    static func isValidServerName(_ name: String) -> Bool {
        (1...64).contains(name.count) && name != "." && name != ".."
            && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }
    }

    /// Problems in `outbound`, `admin` and `proxy`, each naming its key path.
    func outboundValidationErrors(fileExists: (String) -> Bool) -> [ConfigError] {
        var problems = ConfigProblems()

        for (name, server) in outbound.sortedServers {
            let at = "outbound.servers.\(name)"
            problems.check(Self.isValidServerName(name), at, "server names must be 1-64 characters of A-Z, a-z, 0-9, '.', '-' or '_' (they appear in URLs)")
            problems.check(Self.isHTTPURL(server.url), "\(at).url", "must be an absolute http(s) URL")
            problems.check(!server.url.contains("?") && !server.url.contains("#"), "\(at).url", "must not contain a query or fragment")
            problems.errors += clientAuthenticationErrors(server, at: at, fileExists: fileExists)
            if let resource = server.resource {
                problems.check(Self.isHTTPURL(resource) && !resource.contains("#"), "\(at).resource", "must be an absolute URI without fragment (RFC 8707)")
            }
            if let scope = server.scope {
                problems.check(
                    !scope.isEmpty && scope.unicodeScalars.allSatisfy { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" },
                    "\(at).scope", "must be space-separated scope tokens")
            }
            var seen: Set<String> = []
            for (name, value) in server.sortedHeaders {
                let key = "\(at).headers.\(name)"
                problems.check(HeaderRules.isValidName(name), key, "not a valid header name")
                problems.check(
                    !HeaderRules.notStatic.contains(name.lowercased()), key,
                    "\(name) cannot be set here (hop-by-hop, the injected token, or set by the proxy)")
                problems.check(seen.insert(name.lowercased()).inserted, key, "named twice (header names are case-insensitive)")
                problems.check(
                    !value.isEmpty && HeaderRules.isSafeValue(value) && value.trimmingCharacters(in: .whitespaces) == value, key,
                    "must be a non-empty value without control characters or surrounding spaces")
            }
            problems.check(server.refreshBufferSeconds >= 0, "\(at).refresh_buffer_seconds", "must not be negative")
            problems.check((1...86400 * 30).contains(server.defaultExpiresIn), "\(at).default_expires_in", "must be between 1 and 2592000")
            problems.check((1...120_000).contains(server.timeoutMS), "\(at).timeout_ms", "must be between 1 and 120000")
            if let caFile = server.tls.caFile { problems.check(fileExists(caFile), "\(at).tls.ca_file", "file is not readable") }
            problems.check((1...10).contains(server.retry.maxAttempts), "\(at).retry.max_attempts", "must be between 1 and 10")
            problems.check(server.retry.baseDelayMS >= 1, "\(at).retry.base_delay_ms", "must be at least 1")
            problems.check(server.retry.maxDelayMS >= server.retry.baseDelayMS, "\(at).retry.max_delay_ms", "must be at least base_delay_ms")
            problems.check(server.circuitBreaker.failureThreshold >= 1, "\(at).circuit_breaker.failure_threshold", "must be at least 1")
            problems.check(server.circuitBreaker.openSeconds >= 1, "\(at).circuit_breaker.open_seconds", "must be at least 1")
            let breaker = server.upstreamCircuitBreaker, breakerAt = "\(at).upstream_circuit_breaker"
            problems.check(breaker.failureThreshold >= 1, "\(breakerAt).failure_threshold", "must be at least 1")
            problems.check(breaker.failureRatio >= 0 && breaker.failureRatio <= 1, "\(breakerAt).failure_ratio", "must be between 0 (off) and 1")
            problems.check((1...300).contains(breaker.windowSeconds), "\(breakerAt).window_seconds", "must be between 1 and 300")
            problems.check(breaker.minRequests >= 1, "\(breakerAt).min_requests", "must be at least 1")
            problems.check((1...3600).contains(breaker.openSeconds), "\(breakerAt).open_seconds", "must be between 1 and 3600")
            for (index, status) in breaker.failureStatuses.enumerated() {
                problems.check((100...599).contains(status), "\(breakerAt).failure_statuses[\(index)]", "must be an HTTP status (100-599)")
            }
            if let timeout = server.upstreamTimeoutMS {
                problems.check((1...3_600_000).contains(timeout), "\(at).upstream_timeout_ms", "must be between 1 and 3600000")
            }
        }

        switch admin.authMode {
        case .apiKey:
            problems.check(
                !admin.apiKeys.isEmpty || outbound.servers.isEmpty, "admin.api_keys", "list at least one key for auth_mode api_key (or choose bearer / none)")
            for (index, key) in admin.apiKeys.enumerated() {
                problems.check(key.value.utf8.count >= 16, "admin.api_keys[\(index)]", "must be at least 16 characters")
            }
        case .bearer:
            problems.check(!inbound.issuers.isEmpty, "admin.auth_mode", "bearer needs at least one inbound issuer to validate callers")
        case .mtls:
            problems.check(
                server.tls.map { $0.clientAuth != .none } ?? false, "admin.auth_mode",
                "mtls needs server.tls with client_auth optional or required")
            problems.check(!admin.clientCertificates.isEmpty, "admin.client_certificates", "list the certificates mtls accepts")
        case .none:
            break
        }
        for (index, entry) in admin.clientCertificates.enumerated() {
            let at = "admin.client_certificates[\(index)]"
            problems.check(
                admin.authMode == .mtls || (console.enabled && console.auth == .mtls), at, "only used with auth_mode mtls (or console.auth: mtls)")
            let kinds = ["CN=", "DNS:", "URI:", "email:", "IP:"]
            problems.check(
                kinds.contains { entry.hasPrefix($0) && entry.count > $0.count }, at,
                "must be CN=name, DNS:name, URI:uri, email:address or IP:address")
        }
        if let scope = admin.requiredScope {
            problems.check(admin.authMode == .bearer, "admin.required_scope", "only used with auth_mode bearer")
            problems.check(!scope.isEmpty && !scope.contains(" "), "admin.required_scope", "must be one scope token")
        }

        for (index, header) in proxy.forwardRequestHeaders.enumerated() {
            problems.check(HeaderRules.isValidName(header), "proxy.forward_request_headers[\(index)]", "not a valid header name")
            problems.check(
                !HeaderRules.neverForwarded.contains(header.lowercased()), "proxy.forward_request_headers[\(index)]",
                "\(header) is never forwarded (hop-by-hop or caller credentials)")
        }
        problems.check(proxy.maxBodyBytes >= 0, "proxy.max_body_bytes", "must not be negative (0 = unlimited)")
        problems.check((1...3_600_000).contains(proxy.upstreamTimeoutMS), "proxy.upstream_timeout_ms", "must be between 1 and 3600000")
        problems.check((1...3_600_000).contains(proxy.upstreamIdleTimeoutMS), "proxy.upstream_idle_timeout_ms", "must be between 1 and 3600000")
        problems.check((1...10_000).contains(proxy.maxUpstreamConnections), "proxy.max_upstream_connections", "must be between 1 and 10000")
        return problems.errors
    }

    /// `auth_method` and the keys each method reads; a key another method reads is refused, not ignored.
    private func clientAuthenticationErrors(_ server: OutboundServerConfig, at: String, fileExists: (String) -> Bool) -> [ConfigError] {
        var problems = ConfigProblems()
        let method = server.authMethod
        if method == .googleServiceAccount {
            problems.check(server.tokenEndpoint.isEmpty, "\(at).token_endpoint", "taken from the service account file's token_uri (remove it)")
            problems.check(server.clientID.isEmpty, "\(at).client_id", "taken from the service account file's client_email (remove it)")
        } else {
            problems.check(Self.isHTTPURL(server.tokenEndpoint), "\(at).token_endpoint", "must be an absolute http(s) URL")
            problems.check(!server.clientID.isEmpty, "\(at).client_id", "must not be empty")
        }
        if method == .clientSecretBasic || method == .clientSecretPost {
            problems.check(!(server.clientSecret?.value.isEmpty ?? true), "\(at).client_secret", "required for \(method.rawValue)")
        } else {
            problems.check(server.clientSecret == nil, "\(at).client_secret", "not used with \(method.rawValue) (remove it)")
        }
        let files: [(key: String, path: String?, method: OutboundAuthMethod)] = [
            ("private_key_file", server.privateKeyFile, .privateKeyJWT),
            ("service_account_file", server.serviceAccountFile, .googleServiceAccount),
            ("client_assertion_file", server.clientAssertionFile, .clientAssertionFile),
        ]
        for file in files {
            if file.method == method {
                if let path = file.path {
                    problems.check(fileExists(path), "\(at).\(file.key)", "file is not readable")
                } else {
                    problems.add("\(at).\(file.key)", "required for auth_method \(method.rawValue)")
                }
            } else if file.path != nil {
                problems.add("\(at).\(file.key)", "only used with auth_method \(file.method.rawValue)")
            }
        }
        if let keyFile = server.dpopKeyFile {
            problems.check(server.dpop, "\(at).dpop_key_file", "only used with dpop: true")
            problems.check(fileExists(keyFile), "\(at).dpop_key_file", "file is not readable")
        }
        if server.dpop {
            problems.check(method != .googleServiceAccount, "\(at).dpop", "Google's token endpoint does not issue DPoP-bound tokens")
        }
        if server.keyID != nil, method != .privateKeyJWT {
            problems.add(
                "\(at).key_id",
                method == .googleServiceAccount
                    ? "taken from the service account file's private_key_id (remove it)" : "only used with auth_method private_key_jwt")
        }
        return problems.errors
    }
}
