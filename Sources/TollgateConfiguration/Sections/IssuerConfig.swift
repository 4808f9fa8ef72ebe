package import TollgateKit

package struct IssuerConfig: Sendable, Decodable {
    package var name: String
    /// The issuer identifier. Absent when `embedded` is true: then it is the embedded dev issuer's URL.
    package var issuer: String?
    package var embedded: Bool = false
    package var discovery: Bool = true
    package var mode: IssuerMode = .introspection
    package var defaultForOpaque: Bool = false
    package var introspection: IntrospectionConfig?
    package var audiences: [String] = []
    package var requiredScopes: [String] = []
    package var leewaySeconds: Int = 30
    package var maxTokenBytes: Int = 8192
    package var tls = TLSConfig()
    /// Optional when discovery gives it.
    package var jwksURI: String?
    package var algorithms: [JWSAlgorithmName] = [.rs256, .es256]
    /// `at+jwt` accepts `at+jwt` and `application/at+jwt` (RFC 9068); nil checks nothing.
    package var requireTyp: String?
    package var jwks = JWKSConfig()
    package var userinfo = UserinfoConfig()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, issuer, embedded, discovery, mode, introspection, audiences, tls, algorithms, jwks, userinfo
        case jwksURI = "jwks_uri"
        case requireTyp = "require_typ"
        case defaultForOpaque = "default_for_opaque"
        case requiredScopes = "required_scopes"
        case leewaySeconds = "leeway_seconds"
        case maxTokenBytes = "max_token_bytes"
    }

    package init(
        name: String, issuer: String?, embedded: Bool = false, discovery: Bool = true, mode: IssuerMode = .introspection, introspection: IntrospectionConfig?
    ) {
        self.name = name
        self.mode = mode
        self.issuer = issuer
        self.embedded = embedded
        self.discovery = discovery
        self.introspection = introspection
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        name = try c.decode(.name)
        issuer = try c.decodeOptional(.issuer)
        embedded = try c.decode(.embedded, default: embedded)
        discovery = try c.decode(.discovery, default: discovery)
        mode = try c.decode(.mode, default: mode)
        defaultForOpaque = try c.decode(.defaultForOpaque, default: defaultForOpaque)
        introspection = try c.decodeOptional(.introspection)
        audiences = try c.decode(.audiences, default: audiences)
        requiredScopes = try c.decode(.requiredScopes, default: requiredScopes)
        leewaySeconds = try c.decode(.leewaySeconds, default: leewaySeconds)
        maxTokenBytes = try c.decode(.maxTokenBytes, default: maxTokenBytes)
        tls = try c.decode(.tls, default: tls)
        jwksURI = try c.decodeOptional(.jwksURI)
        algorithms = try c.decode(.algorithms, default: algorithms)
        requireTyp = try c.decodeOptional(.requireTyp)
        jwks = try c.decode(.jwks, default: jwks)
        userinfo = try c.decode(.userinfo, default: userinfo)
    }
}

package struct JWKSConfig: Sendable, Decodable {
    package var minRefreshSeconds: Int = 60
    package var maxCacheSeconds: Int = 86400
    package var maxStaleSeconds: Int = 3600
    package var unknownKidRefetchIntervalSeconds: Int = 30

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minRefreshSeconds = "min_refresh_seconds"
        case maxCacheSeconds = "max_cache_seconds"
        case maxStaleSeconds = "max_stale_seconds"
        case unknownKidRefetchIntervalSeconds = "unknown_kid_refetch_interval_seconds"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        minRefreshSeconds = try c.decode(.minRefreshSeconds, default: minRefreshSeconds)
        maxCacheSeconds = try c.decode(.maxCacheSeconds, default: maxCacheSeconds)
        maxStaleSeconds = try c.decode(.maxStaleSeconds, default: maxStaleSeconds)
        unknownKidRefetchIntervalSeconds = try c.decode(.unknownKidRefetchIntervalSeconds, default: unknownKidRefetchIntervalSeconds)
    }
}

package struct IntrospectionConfig: Sendable, Decodable {
    /// Optional when discovery is on: the discovery document's `introspection_endpoint` is used.
    package var endpoint: String?
    /// With discovery on and no `endpoint`: used when discovery fails or names no introspection endpoint.
    package var fallbackEndpoint: String?
    package var clientID: String
    package var clientSecret: Secret
    package var authMethod: ClientAuthMethod = .clientSecretBasic
    package var timeoutMS: Int = 2000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint
        case fallbackEndpoint = "fallback_endpoint"
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case authMethod = "auth_method"
        case timeoutMS = "timeout_ms"
    }

    package init(endpoint: String? = nil, clientID: String, clientSecret: String, authMethod: ClientAuthMethod = .clientSecretBasic, timeoutMS: Int = 2000) {
        self.endpoint = endpoint
        self.clientID = clientID
        self.clientSecret = Secret(clientSecret)
        self.authMethod = authMethod
        self.timeoutMS = timeoutMS
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        endpoint = try c.decodeOptional(.endpoint)
        fallbackEndpoint = try c.decodeOptional(.fallbackEndpoint)
        clientID = try c.decode(.clientID)
        clientSecret = try c.decode(.clientSecret)
        authMethod = try c.decode(.authMethod, default: authMethod)
        timeoutMS = try c.decode(.timeoutMS, default: timeoutMS)
    }
}
