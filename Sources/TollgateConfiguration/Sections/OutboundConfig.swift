package import TollgateKit

/// `outbound:` — OAuth2 client-credentials tokens Tollgate acquires for DICOMweb peers.
package struct OutboundConfig: Sendable, Decodable {
    package var servers: [String: OutboundServerConfig] = [:]
    /// `/ready` is 503 until every server holds a valid token.
    package var readyRequiresTokens: Bool = true

    enum CodingKeys: String, CodingKey, CaseIterable {
        case servers
        case readyRequiresTokens = "ready_requires_tokens"
    }

    package init(servers: [String: OutboundServerConfig] = [:]) { self.servers = servers }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        servers = try c.decode(.servers, default: servers)
        readyRequiresTokens = try c.decode(.readyRequiresTokens, default: readyRequiresTokens)
    }

    /// Servers in a stable order (YAML mappings have none that survives decoding).
    package var sortedServers: [(name: String, config: OutboundServerConfig)] {
        servers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }
}

package enum OutboundAuthMethod: String, ConfigEnum {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
    case privateKeyJWT = "private_key_jwt"
    /// RFC 7523 §2.1 JWT-bearer grant signed with a Google service-account key file.
    case googleServiceAccount = "google_service_account"
    /// A client assertion someone else signs and rotates in a file (AKS/EKS workload identity).
    case clientAssertionFile = "client_assertion_file"
}

package struct OutboundServerConfig: Sendable, Decodable {
    /// Base URL of the DICOMweb peer; `/proxy/{name}/…` is appended below it.
    package var url: String
    /// Empty for `google_service_account`: the key file's `token_uri` is used.
    package var tokenEndpoint: String
    /// Empty for `google_service_account`: the key file's `client_email` is used.
    package var clientID: String
    package var clientSecret: Secret?
    package var scope: String?
    /// RFC 8707 resource indicator.
    package var resource: String?
    package var authMethod: OutboundAuthMethod = .clientSecretBasic
    /// PEM private key (RSA → RS256, P-256 → ES256) for private_key_jwt.
    package var privateKeyFile: String?
    /// `kid` header of the client assertion (what the IdP registered the key under).
    package var keyID: String?
    /// Google service-account JSON key (`client_email`, `private_key`, `private_key_id`, `token_uri`).
    package var serviceAccountFile: String?
    /// A file holding a signed client assertion, reread for every token request (e.g. `AZURE_FEDERATED_TOKEN_FILE`).
    package var clientAssertionFile: String?
    /// Set on every proxied request (replacing the caller's) and pushed into Orthanc's `HttpHeaders`,
    /// e.g. a site id or a forced `Accept`.
    package var headers: [String: String] = [:]
    package var refreshBufferSeconds: Int = 300
    /// `/ready` waits for this server's first token at start-up (with `server.readiness: startup`;
    /// `continuous` requires a valid token all the time). `outbound.ready_requires_tokens: false` turns it off for every server.
    package var requiredAtStart: Bool = true
    package var defaultExpiresIn: Int = 3600
    package var timeoutMS: Int = 5000
    package var tls = TLSConfig()
    package var retry = RetryConfig()
    package var circuitBreaker = CircuitBreakerConfig()
    /// Proxied requests to this peer (the token endpoint has `circuit_breaker`).
    package var upstreamCircuitBreaker = UpstreamCircuitBreakerConfig()
    /// Idle read timeout for this peer's answers; nil: `proxy.upstream_timeout_ms`.
    package var upstreamTimeoutMS: Int?
    /// RFC 9449: proofs with every token request and proxied request, DPoP-bound tokens accepted.
    package var dpop = false
    /// The DPoP key (a P-256 private key in PEM); without it one is generated at start.
    package var dpopKeyFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case url, scope, resource, tls, retry, headers
        case tokenEndpoint = "token_endpoint"
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case authMethod = "auth_method"
        case privateKeyFile = "private_key_file"
        case keyID = "key_id"
        case serviceAccountFile = "service_account_file"
        case clientAssertionFile = "client_assertion_file"
        case refreshBufferSeconds = "refresh_buffer_seconds"
        case requiredAtStart = "required_at_start"
        case defaultExpiresIn = "default_expires_in"
        case timeoutMS = "timeout_ms"
        case circuitBreaker = "circuit_breaker"
        case upstreamCircuitBreaker = "upstream_circuit_breaker"
        case upstreamTimeoutMS = "upstream_timeout_ms"
        case dpop
        case dpopKeyFile = "dpop_key_file"
    }

    package init(
        url: String, tokenEndpoint: String, clientID: String, clientSecret: String?, scope: String? = nil, authMethod: OutboundAuthMethod = .clientSecretBasic
    ) {
        self.url = url
        self.tokenEndpoint = tokenEndpoint
        self.clientID = clientID
        self.clientSecret = clientSecret.map(Secret.init)
        self.scope = scope
        self.authMethod = authMethod
    }

    /// Static headers in a stable order, as they are sent.
    package var sortedHeaders: [(name: String, value: String)] {
        headers.sorted { $0.key.lowercased() < $1.key.lowercased() }.map { ($0.key, $0.value) }
    }

    /// What `google_service_account` asks for when `scope` is not set.
    package static let googleHealthcareScope = "https://www.googleapis.com/auth/cloud-healthcare"

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        url = try c.decode(.url)
        authMethod = try c.decode(.authMethod, default: authMethod)
        // A Google key file names its own token endpoint and client; validation refuses both keys then.
        let fromKeyFile = authMethod == .googleServiceAccount
        tokenEndpoint = fromKeyFile ? try c.decode(.tokenEndpoint, default: "") : try c.decode(.tokenEndpoint)
        clientID = fromKeyFile ? try c.decode(.clientID, default: "") : try c.decode(.clientID)
        clientSecret = try c.decodeOptional(.clientSecret)
        scope = try c.decodeOptional(.scope) ?? (fromKeyFile ? Self.googleHealthcareScope : nil)
        resource = try c.decodeOptional(.resource)
        privateKeyFile = try c.decodeOptional(.privateKeyFile)
        keyID = try c.decodeOptional(.keyID)
        serviceAccountFile = try c.decodeOptional(.serviceAccountFile)
        clientAssertionFile = try c.decodeOptional(.clientAssertionFile)
        headers = try c.decode(.headers, default: headers)
        refreshBufferSeconds = try c.decode(.refreshBufferSeconds, default: refreshBufferSeconds)
        requiredAtStart = try c.decode(.requiredAtStart, default: requiredAtStart)
        defaultExpiresIn = try c.decode(.defaultExpiresIn, default: defaultExpiresIn)
        timeoutMS = try c.decode(.timeoutMS, default: timeoutMS)
        tls = try c.decode(.tls, default: tls)
        retry = try c.decode(.retry, default: retry)
        circuitBreaker = try c.decode(.circuitBreaker, default: circuitBreaker)
        upstreamCircuitBreaker = try c.decode(.upstreamCircuitBreaker, default: upstreamCircuitBreaker)
        upstreamTimeoutMS = try c.decodeOptional(.upstreamTimeoutMS)
        dpop = try c.decode(.dpop, default: dpop)
        dpopKeyFile = try c.decodeOptional(.dpopKeyFile)
    }
}

/// Retries of one token acquisition (network errors, timeouts, 5xx, 429, unusable 200 bodies).
package struct RetryConfig: Sendable, Decodable {
    package var maxAttempts: Int = 3
    package var baseDelayMS: Int = 500
    package var maxDelayMS: Int = 30000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxAttempts = "max_attempts"
        case baseDelayMS = "base_delay_ms"
        case maxDelayMS = "max_delay_ms"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        maxAttempts = try c.decode(.maxAttempts, default: maxAttempts)
        baseDelayMS = try c.decode(.baseDelayMS, default: baseDelayMS)
        maxDelayMS = try c.decode(.maxDelayMS, default: maxDelayMS)
    }
}

/// One breaker per token endpoint: opens after `failure_threshold` consecutive failed attempts,
/// lets one probe through after `open_seconds`.
package struct CircuitBreakerConfig: Sendable, Decodable {
    package var failureThreshold: Int = 5
    package var openSeconds: Int = 30

    enum CodingKeys: String, CodingKey, CaseIterable {
        case failureThreshold = "failure_threshold"
        case openSeconds = "open_seconds"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        failureThreshold = try c.decode(.failureThreshold, default: failureThreshold)
        openSeconds = try c.decode(.openSeconds, default: openSeconds)
    }
}

/// The breaker in front of one peer's proxied requests. Connect errors, timeouts, broken answers
/// and the listed statuses are failures; it opens on `failure_threshold` consecutive failures, or
/// on `failure_ratio` of at least `min_requests` calls in the last `window_seconds`.
package struct UpstreamCircuitBreakerConfig: Sendable, Decodable {
    package var enabled = true
    package var failureThreshold = 5
    /// 0 turns the ratio rule off.
    package var failureRatio = 0.5
    package var windowSeconds = 30
    package var minRequests = 20
    package var openSeconds = 30
    /// Answers that count as failures. 500 is left out by default: a PACS answers 500 to one bad
    /// query, and one caller's bad queries must not cut everyone off.
    package var failureStatuses: [Int] = [502, 503, 504]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled
        case failureThreshold = "failure_threshold"
        case failureRatio = "failure_ratio"
        case windowSeconds = "window_seconds"
        case minRequests = "min_requests"
        case openSeconds = "open_seconds"
        case failureStatuses = "failure_statuses"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: enabled)
        failureThreshold = try c.decode(.failureThreshold, default: failureThreshold)
        failureRatio = try c.decode(.failureRatio, default: failureRatio)
        windowSeconds = try c.decode(.windowSeconds, default: windowSeconds)
        minRequests = try c.decode(.minRequests, default: minRequests)
        openSeconds = try c.decode(.openSeconds, default: openSeconds)
        failureStatuses = try c.decode(.failureStatuses, default: failureStatuses)
    }
}
