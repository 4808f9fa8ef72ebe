import Foundation

extension TollgateConfig {
    /// Problems in `registry`, each naming its key path. Checked even when it is disabled, so a
    /// key meant for later is right when it is switched on.
    func registryValidationErrors() -> [ConfigError] {
        var problems = ConfigProblems()
        if registry.store == .sqlite {
            problems.check(!registry.sqlite.path.isEmpty, "registry.sqlite.path", "must not be empty")
        }
        if registry.store == .postgres {
            if let url = registry.postgres.url?.value {
                let parsed = URLComponents(string: url)
                problems.check(
                    ["postgres", "postgresql"].contains(parsed?.scheme?.lowercased() ?? "") && !(parsed?.host ?? "").isEmpty,
                    "registry.postgres.url", "must be postgres://user:password@host:port/database (write ${file:/run/secrets/registry-db-url})")
                let mode = parsed?.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
                problems.check(
                    ["disable", "prefer", "require", "verify-full"].contains(mode), "registry.postgres.url",
                    "sslmode must be disable, prefer, require or verify-full")
            } else {
                problems.add("registry.postgres.url", "is required with store postgres")
            }
            problems.check(
                PostgresStoreConfig.isValidSchema(registry.postgres.schema), "registry.postgres.schema",
                "must be a lowercase identifier (a–z, 0–9, _; at most 63)")
            problems.check((1...200).contains(registry.postgres.maxConnections), "registry.postgres.max_connections", "must be 1–200")
        }
        problems.check((5...300).contains(registry.leaseSeconds), "registry.lease_seconds", "must be 5–300")
        let encryption = registry.encryption
        if registry.enabled {
            problems.check(
                !encryption.keys.isEmpty || encryption.devKeyFile != nil, "registry.encryption.keys",
                "name at least one key ({id, key: base64 of 32 random bytes, e.g. ${file:/run/secrets/registry-key}}); dev_key_file is for development only")
        }
        if let devKeyFile = encryption.devKeyFile {
            problems.check(!devKeyFile.isEmpty, "registry.encryption.dev_key_file", "must not be empty")
            problems.check(encryption.keys.isEmpty, "registry.encryption.dev_key_file", "only used when keys is empty")
        }
        var ids = Set<String>()
        for (index, key) in encryption.keys.enumerated() {
            let at = "registry.encryption.keys[\(index)]"
            problems.check(RegistryKeyConfig.isValidID(key.id), "\(at).id", "must be 1–64 visible ASCII characters")
            problems.check(ids.insert(key.id).inserted, "\(at).id", "duplicate key id")
            problems.check(
                RegistryKeyConfig.keyBytes(key.key.value) != nil, "\(at).key",
                "must be base64 of exactly 32 random bytes (openssl rand -base64 32)")
        }
        if let base = registry.callbackBaseURL {
            problems.check(
                TollgateConfig.isHTTPURL(base) && !base.contains("?") && !base.contains("#"), "registry.callback_base_url",
                "must be an absolute http(s) URL without query or fragment (e.g. https://tollgate.example.org)")
        }
        problems.check(!registry.apiPrefixes.isEmpty, "registry.api_prefixes", "name at least one prefix (e.g. [/oauth, /api/oauth])")
        var prefixes = Set<String>()
        for (index, prefix) in registry.apiPrefixes.enumerated() {
            let at = "registry.api_prefixes[\(index)]"
            guard RegistryConfig.isValidPrefix(prefix) else {
                problems.add(at, "must be /segment or /segment/segment (a–z, 0–9, - and _), without a trailing slash")
                continue
            }
            let first = String(prefix.dropFirst().split(separator: "/")[0])
            problems.check(!RegistryConfig.reservedPrefixSegments.contains(first), at, "/\(first) is another Tollgate route")
            problems.check(prefixes.insert(prefix).inserted, at, "listed twice")
        }
        problems.check((60...3600).contains(registry.authorizationTTLSeconds), "registry.authorization_ttl_seconds", "must be 60–3600")
        problems.check((5...3600).contains(registry.refresh.intervalSeconds), "registry.refresh.interval_seconds", "must be 5–3600")
        problems.check((0...86400).contains(registry.refresh.aheadSeconds), "registry.refresh.ahead_seconds", "must be 0–86400")
        problems.check((1...720).contains(registry.refresh.keepaliveHours), "registry.refresh.keepalive_hours", "must be 1–720")
        return problems.errors
    }
}
