extension TollgateConfig {
    /// A human summary for `tollgate check-config`: every effective setting, secrets redacted.
    public var redactedSummary: String {
        var lines = [
            "server: \(server.host):\(server.port) (max_body_bytes \(server.maxBodyBytes))",
            "log: level \(log.level.rawValue), format \(log.format.rawValue)",
            "inbound.cache: max_entries \(inbound.cache.maxEntries), max_ttl_seconds \(inbound.cache.maxTTLSeconds), negative_ttl_seconds \(inbound.cache.negativeTTLSeconds)",
        ]
        if inbound.issuers.isEmpty { lines.append("inbound.issuers: none") }
        for issuer in inbound.issuers {
            lines.append("inbound.issuer \(issuer.name): \(issuerURL(of: issuer))\(issuer.embedded ? " (embedded dev issuer)" : "")")
            lines.append("  mode \(issuer.mode.rawValue), discovery \(issuer.discovery), leeway \(issuer.leewaySeconds)s, max_token_bytes \(issuer.maxTokenBytes)\(issuer.defaultForOpaque ? ", default_for_opaque" : "")")
            lines.append("  audiences [\(issuer.audiences.joined(separator: ", "))], required_scopes [\(issuer.requiredScopes.joined(separator: ", "))]")
            if let introspection = issuer.introspection {
                lines.append("  introspection: \(introspection.endpoint ?? "(from discovery)"), client_id \(introspection.clientID), client_secret \(introspection.clientSecret), \(introspection.authMethod.rawValue), timeout \(introspection.timeoutMS) ms")
            }
            if let caFile = issuer.tls.caFile { lines.append("  tls.ca_file \(caFile)") }
        }
        if devIssuer.enabled {
            lines.append("dev_issuer: ENABLED at \(devIssuerURL), token_ttl_seconds \(devIssuer.tokenTTLSeconds), audience \(devIssuer.audience), key \(devIssuer.signingKeyFile ?? "generated at start")")
            for client in devIssuer.clients {
                lines.append("  client \(client.clientID): secret \(client.clientSecret), scopes [\(client.scopes.joined(separator: ", "))]")
            }
        } else {
            lines.append("dev_issuer: disabled")
        }
        return lines.joined(separator: "\n")
    }
}
