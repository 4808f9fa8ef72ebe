import TollgateKit
extension TollgateConfig {
    /// A human summary for `tollgate check-config`: every effective setting, secrets redacted.
    package var redactedSummary: String {
        var lines = [
            "server: \(server.host):\(server.port) (max_body_bytes \(server.maxBodyBytes), idle_timeout \(server.idleTimeoutSeconds)s, max_connections \(server.maxConnections))",
            "log: level \(log.level.rawValue), format \(log.format.rawValue), access \(log.access)",
            "inbound.cache: max_entries \(inbound.cache.maxEntries), max_ttl_seconds \(inbound.cache.maxTTLSeconds), negative_ttl_seconds \(inbound.cache.negativeTTLSeconds)",
        ]
        if inbound.issuers.isEmpty { lines.append("inbound.issuers: none") }
        for issuer in inbound.issuers {
            lines.append("inbound.issuer \(issuer.name): \(URLRedaction.redacted(issuerURL(of: issuer)))\(issuer.embedded ? " (embedded dev issuer)" : "")")
            lines.append(
                "  mode \(issuer.mode.rawValue), discovery \(issuer.discovery), leeway \(issuer.leewaySeconds)s, max_token_bytes \(issuer.maxTokenBytes)\(issuer.defaultForOpaque ? ", default_for_opaque" : "")"
            )
            lines.append("  audiences [\(issuer.audiences.joined(separator: ", "))], required_scopes [\(issuer.requiredScopes.joined(separator: ", "))]")
            if let introspection = issuer.introspection {
                lines.append(
                    "  introspection: \(introspection.endpoint.map(URLRedaction.redacted) ?? "(from discovery" + (introspection.fallbackEndpoint.map { ", else " + URLRedaction.redacted($0) } ?? "") + ")"), client_id \(introspection.clientID), client_secret \(introspection.clientSecret), \(introspection.authMethod.rawValue), timeout \(introspection.timeoutMS) ms"
                )
            }
            if let caFile = issuer.tls.caFile { lines.append("  tls.ca_file \(caFile)") }
        }
        if devIssuer.enabled {
            lines.append(
                "dev_issuer: ENABLED at \(devIssuerURL), token_ttl_seconds \(devIssuer.tokenTTLSeconds), audience \(devIssuer.audience), key \(devIssuer.signingKeyFile ?? "generated at start")\(devIssuer.allowNonLoopback ? ", allow_non_loopback" : "")"
            )
            for client in devIssuer.clients {
                lines.append("  client \(client.clientID): secret \(client.clientSecret), scopes [\(client.scopes.joined(separator: ", "))]")
            }
        } else {
            lines.append("dev_issuer: disabled")
        }
        if outbound.servers.isEmpty { lines.append("outbound.servers: none") }
        for (name, server) in outbound.sortedServers {
            lines.append("outbound.server \(name): \(URLRedaction.redacted(server.url))")
            if let keyFile = server.serviceAccountFile {
                lines.append("  \(server.authMethod.rawValue): token endpoint and client from \(keyFile)")
            } else {
                lines.append(
                    "  token_endpoint \(URLRedaction.redacted(server.tokenEndpoint)), client_id \(server.clientID), \(server.authMethod.rawValue)"
                        + (server.clientSecret.map { ", client_secret \($0)" } ?? "") + (server.privateKeyFile.map { ", private_key_file \($0)" } ?? "")
                        + (server.clientAssertionFile.map { ", client_assertion_file \($0)" } ?? ""))
            }
            lines.append(
                "  scope \(server.scope ?? "(none)"), resource \(server.resource.map(URLRedaction.redacted) ?? "(none)"), refresh_buffer \(server.refreshBufferSeconds)s, default_expires_in \(server.defaultExpiresIn)s, timeout \(server.timeoutMS) ms"
            )
            if !server.headers.isEmpty { lines.append("  headers \(server.sortedHeaders.map(\.name).joined(separator: ", ")) (values not shown)") }
            lines.append(
                "  retry \(server.retry.maxAttempts) attempts (\(server.retry.baseDelayMS)-\(server.retry.maxDelayMS) ms), circuit breaker after \(server.circuitBreaker.failureThreshold) failures for \(server.circuitBreaker.openSeconds)s"
            )
        }
        if !outbound.servers.isEmpty { lines.append("outbound.ready_requires_tokens: \(outbound.readyRequiresTokens)") }
        lines.append(
            "forward_auth: \(forwardAuth.rules.count) rule(s), default \(forwardAuth.effectiveDefault.rawValue), proxy \(forwardAuth.proxy.rawValue), trusted_proxies [\(forwardAuth.trustedProxies.joined(separator: ", "))], status_on_unavailable \(forwardAuth.statusOnUnavailable), status_on_malformed \(forwardAuth.statusOnMalformed)"
        )
        for (index, rule) in forwardAuth.rules.enumerated() {
            let needs =
                rule.allowAnonymous
                ? "anonymous"
                : [
                    ("scopes", rule.scopes), ("any_scopes", rule.anyScopes), ("audiences", rule.audiences), ("issuers", rule.issuers),
                    ("roles at \(rule.rolesClaim)", rule.roles),
                ].filter { !$0.1.isEmpty }.map { "\($0.0) [\($0.1.joined(separator: ", "))]" }.joined(separator: ", ")
            lines.append(
                "  \(rule.name ?? "rules[\(index)]"): \(rule.methods.isEmpty ? "any method" : rule.methods.joined(separator: "|")) \(rule.path)\(rule.host.map { " on \($0)" } ?? "") → \(needs.isEmpty ? "any accepted token" : needs)"
            )
        }
        lines.append(
            "admin: auth_mode \(admin.authMode.rawValue), \(admin.apiKeys.count) api key(s)\(admin.requiredScope.map { ", required_scope \($0)" } ?? "")")
        if let permissions = orthanc.permissions {
            let source = permissions.rolesFile.map { "roles file \($0)" } ?? "roles " + (permissions.roles ?? [:]).keys.sorted().joined(separator: ", ")
            lines.append("orthanc.permissions: \(source), read from \(permissions.roleClaims.joined(separator: ", "))")
        } else {
            lines.append("orthanc.permissions: none (valid tokens hold no permission; only the anonymous profile and share tokens grant)")
        }
        let share = orthanc.shareTokens
        lines.append(
            "orthanc.share_tokens: "
                + (share.key != nil ? "key <redacted>" : share.keyFile.map { "key_file \($0)" } ?? "random key per process (links die on restart)")
                + ", links expire after " + (share.defaultValiditySeconds.map { "\($0) s" } ?? "never") + " unless asked"
                + (share.maxValiditySeconds.map { ", at most \($0) s" } ?? ", no cap"))
        if orthanc.auth == .none { lines.append("orthanc web-service routes: OPEN (orthanc.auth: none)") }
        if orthanc.webserviceUsername != nil {
            lines.append("orthanc.webservice: Basic user \(orthanc.webserviceUsername ?? ""), password \(orthanc.webservicePassword?.description ?? "")")
        }
        for (name, push) in orthanc.dicomwebServers.sorted(by: { $0.key < $1.key }) {
            lines.append(
                "orthanc push \(name) ← outbound \(push.outboundServer) into \(orthanc.url.map(URLRedaction.redacted) ?? "?") every \(orthanc.checkIntervalSeconds)s"
            )
        }
        lines.append(
            "proxy: forward_request_headers [\(proxy.forwardRequestHeaders.joined(separator: ", "))], max_body_bytes \(proxy.maxBodyBytes), upstream_timeout \(proxy.upstreamTimeoutMS) ms, max_upstream_connections \(proxy.maxUpstreamConnections), upstream_idle_timeout \(proxy.upstreamIdleTimeoutMS) ms"
        )
        if registry.enabled {
            let keys =
                registry.encryption.keys.isEmpty
                ? "development key file \(registry.encryption.devKeyFile ?? "?")"
                : "keys [\(registry.encryption.keys.map(\.id).joined(separator: ", "))] (first seals)"
            let store =
                switch registry.store {
                case .sqlite: "sqlite \(registry.sqlite.path)"
                case .memory: "memory"
                case .postgres:
                    "postgres \(registry.postgres.url.map { URLRedaction.redacted($0.value) } ?? "?") schema \(registry.postgres.schema), lease \(registry.leaseSeconds) s"
                }
            lines.append(
                "registry: \(store), \(keys), API under \(registry.apiPrefixes.joined(separator: " and "))"
                    + (registry.exposeRefreshTokens ? ", refresh tokens exposed with the credentials" : ""))
        }
        let tracingState = tracing.enabled.map { $0 ? "on" : "off" } ?? "on when OTEL_EXPORTER_OTLP_ENDPOINT is set"
        lines.append(
            "tracing: export \(tracingState), \(tracing.protocol.rawValue) to \(URLRedaction.redacted(tracing.endpoint)), service \(tracing.serviceName), sample_ratio \(tracing.sampleRatio) (OTEL_* variables win)"
        )
        if console.enabled {
            let required = console.required
            let who =
                console.auth == .oidc
                ? "oidc \(URLRedaction.redacted(console.oidc.issuer)) client \(console.oidc.clientID) (\(console.oidc.authMethod.rawValue)), needs scopes \(required.scopes) or roles \(required.roles) at \(required.rolesClaim) or groups \(required.groups) at \(required.groupsClaim)"
                : "mtls (admin.client_certificates)"
            lines.append(
                "console: ON at \(console.baseURL ?? "")/console, \(who); sessions in \(console.session.store.rawValue), idle \(console.session.idleTimeoutSeconds) s, absolute \(console.session.absoluteTimeoutSeconds) s"
            )
        } else {
            lines.append("console: off")
        }
        return lines.joined(separator: "\n")
    }
}
