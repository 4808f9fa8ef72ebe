/// Every metric family Tollgate exports: one naming convention (`tollgate_` prefix, base units,
/// `_total` on counters; the standard `process_` names for the process), and a help text each.
/// README maps seed 004's names onto these.
struct MetricFamily: Sendable, Hashable {
    let name: String
    let help: String

    static let decisions = Self(
        name: "tollgate_decisions_total", help: "Authentication decisions by result (allowed, denied, indeterminate), reason and issuer alias.")
    static let cacheHits = Self(name: "tollgate_cache_hits_total", help: "Decision-cache hits on an allowed token.")
    static let cacheNegativeHits = Self(name: "tollgate_cache_negative_hits_total", help: "Decision-cache hits on a refused token.")
    static let cacheMisses = Self(name: "tollgate_cache_misses_total", help: "Decision-cache misses that asked an issuer.")
    static let cacheCoalesced = Self(name: "tollgate_cache_coalesced_total", help: "Misses that joined a lookup already under way for the same token.")
    static let cacheEvictions = Self(name: "tollgate_cache_evictions_total", help: "Decision-cache entries evicted to stay within max_entries.")
    static let cacheEntries = Self(name: "tollgate_cache_entries", help: "Decisions held in the cache now.")
    static let introspection = Self(name: "tollgate_introspection_duration_seconds", help: "RFC 7662 introspection calls by issuer and outcome.")
    static let userinfo = Self(name: "tollgate_userinfo_duration_seconds", help: "OIDC userinfo calls (once per decision-cache miss) by issuer and outcome.")
    static let httpRequests = Self(
        name: "tollgate_http_request_duration_seconds", help: "HTTP requests served, by route template, method and status (its _count is the request count).")
    static let devIssuerRequests = Self(name: "tollgate_dev_issuer_requests_total", help: "Requests to the embedded dev issuer by endpoint.")
    static let jwksFetches = Self(name: "tollgate_jwks_fetches_total", help: "JWKS downloads by issuer and result.")
    static let jwksKeys = Self(name: "tollgate_jwks_keys", help: "Usable keys in an issuer's JWKS after the last good download.")
    static let jwksLastSuccess = Self(name: "tollgate_jwks_last_success_timestamp_seconds", help: "Unix time of an issuer's last good JWKS download.")
    static let tokenFetches = Self(name: "tollgate_token_fetch_total", help: "Attempts at an outbound server's token endpoint by result.")
    static let tokenFetchDuration = Self(name: "tollgate_token_fetch_duration_seconds", help: "Token-endpoint call durations by outbound server.")
    static let tokenExpiresIn = Self(
        name: "tollgate_token_expires_in_seconds", help: "Seconds until an outbound server's token expires (0 when none is valid), sampled at scrape.")
    static let circuitBreakerState = Self(
        name: "tollgate_circuit_breaker_state",
        help:
            "Circuit breakers by outbound server and kind (token: its token endpoint, upstream: proxied requests): 0 closed, 1 open, 2 half-open; sampled at scrape."
    )
    static let circuitBreakerStates = Self(
        name: "tollgate_circuit_breaker_states",
        help: "Circuit breakers as a state set: 1 on the series of the current state (closed, open, half_open), 0 on the others; sampled at scrape.")
    static let buildInfo = Self(name: "tollgate_build_info", help: "Always 1; the version and the source revision (TOLLGATE_REVISION at start, else unknown).")
    static let tokenCacheHits = Self(name: "tollgate_token_cache_hits_total", help: "Outbound tokens served from memory.")
    static let tokenCacheMisses = Self(name: "tollgate_token_cache_misses_total", help: "Outbound token requests that had to wait for an acquisition.")
    static let upstreamRequests = Self(
        name: "tollgate_upstream_request_duration_seconds", help: "Proxied requests to the response head, by outbound server and status class.")
    static let orthancPushes = Self(name: "tollgate_orthanc_push_total", help: "DICOMweb definition pushes into Orthanc by result.")
    static let registryConnections = Self(
        name: "tollgate_registry_connections",
        help: "Runtime connections by the registry key id that seals them (every configured key listed), sampled at scrape.")
    static let registryTokenRequests = Self(
        name: "tollgate_registry_token_requests_total",
        help:
            "Token requests for runtime connections by grant (client_credentials, refresh_token, authorization_code) and result (success, invalid_grant, or the failure kind), whether a caller or the background refresh caused them."
    )
    static let registryRevocations = Self(
        name: "tollgate_registry_revocations_total",
        help:
            "RFC 7009 revocations of the tokens a runtime connection gave up (deleted, or replaced by a new authorization) by token_type (refresh_token, access_token) and result (revoked, failed, no_endpoint)."
    )
    static let auditEvents = Self(
        name: "tollgate_audit_events_total",
        help:
            "Audit records by sink (stdout, file, syslog) and outcome: written, or dropped (the sink's buffer was full, or it never recovered before shutdown)."
    )
    static let auditSinkFailures = Self(
        name: "tollgate_audit_sink_failures_total", help: "Failed writes to an audit sink (each is retried with backoff; the records wait in its buffer).")
    static let auditQueued = Self(name: "tollgate_audit_queued_events", help: "Audit records waiting in a sink's buffer, sampled at scrape.")
    static let tlsReloads = Self(
        name: "tollgate_tls_reloads_total", help: "Reloads of server.tls files that changed on disk, by result (success, error: the previous certificate kept)."
    )
    static let residentMemory = Self(name: "process_resident_memory_bytes", help: "Resident memory size in bytes.")
    static let cpuSeconds = Self(name: "process_cpu_seconds_total", help: "User and system CPU time spent, in seconds.")
    static let openFDs = Self(name: "process_open_fds", help: "Open file descriptors.")
    static let maxFDs = Self(name: "process_max_fds", help: "The file-descriptor limit.")
    static let startTime = Self(name: "process_start_time_seconds", help: "Unix time the process started.")
}
