import TollgateKit

public struct IssuerConfig: Sendable, Decodable {
    public var name: String
    /// The issuer identifier. Absent when `embedded` is true: then it is the embedded dev issuer's URL.
    public var issuer: String?
    public var embedded: Bool = false
    public var discovery: Bool = true
    public var mode: IssuerMode = .introspection
    public var defaultForOpaque: Bool = false
    public var introspection: IntrospectionConfig?
    public var audiences: [String] = []
    public var requiredScopes: [String] = []
    public var leewaySeconds: Int = 30
    public var maxTokenBytes: Int = 8192
    public var tls = TLSConfig()
    /// Optional when discovery gives it.
    public var jwksURI: String?
    public var algorithms: [JWSAlgorithmName] = [.rs256, .es256]
    /// `at+jwt` accepts `at+jwt` and `application/at+jwt` (RFC 9068); nil checks nothing.
    public var requireTyp: String?
    public var jwks = JWKSConfig()
    public var userinfo = UserinfoConfig()

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, issuer, embedded, discovery, mode, introspection, audiences, tls, algorithms, jwks, userinfo
        case jwksURI = "jwks_uri"
        case requireTyp = "require_typ"
        case defaultForOpaque = "default_for_opaque"
        case requiredScopes = "required_scopes"
        case leewaySeconds = "leeway_seconds"
        case maxTokenBytes = "max_token_bytes"
    }

    public init(name: String, issuer: String?, embedded: Bool = false, discovery: Bool = true, mode: IssuerMode = .introspection, introspection: IntrospectionConfig?) {
        self.name = name
        self.mode = mode
        self.issuer = issuer
        self.embedded = embedded
        self.discovery = discovery
        self.introspection = introspection
    }

    public init(from decoder: any Decoder) throws {
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

public struct JWKSConfig: Sendable, Decodable {
    public var minRefreshSeconds: Int = 60
    public var maxCacheSeconds: Int = 86400
    public var maxStaleSeconds: Int = 3600
    public var unknownKidRefetchIntervalSeconds: Int = 30

    enum CodingKeys: String, CodingKey, CaseIterable {
        case minRefreshSeconds = "min_refresh_seconds"
        case maxCacheSeconds = "max_cache_seconds"
        case maxStaleSeconds = "max_stale_seconds"
        case unknownKidRefetchIntervalSeconds = "unknown_kid_refetch_interval_seconds"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        minRefreshSeconds = try c.decode(.minRefreshSeconds, default: minRefreshSeconds)
        maxCacheSeconds = try c.decode(.maxCacheSeconds, default: maxCacheSeconds)
        maxStaleSeconds = try c.decode(.maxStaleSeconds, default: maxStaleSeconds)
        unknownKidRefetchIntervalSeconds = try c.decode(.unknownKidRefetchIntervalSeconds, default: unknownKidRefetchIntervalSeconds)
    }
}

public struct IntrospectionConfig: Sendable, Decodable {
    /// Optional when discovery is on: the discovery document's `introspection_endpoint` is used.
    public var endpoint: String?
    /// With discovery on and no `endpoint`: used when discovery fails or names no introspection endpoint.
    public var fallbackEndpoint: String?
    public var clientID: String
    public var clientSecret: Secret
    public var authMethod: ClientAuthMethod = .clientSecretBasic
    public var timeoutMS: Int = 2000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint
        case fallbackEndpoint = "fallback_endpoint"
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case authMethod = "auth_method"
        case timeoutMS = "timeout_ms"
    }

    public init(endpoint: String? = nil, clientID: String, clientSecret: String, authMethod: ClientAuthMethod = .clientSecretBasic, timeoutMS: Int = 2000) {
        self.endpoint = endpoint
        self.clientID = clientID
        self.clientSecret = Secret(clientSecret)
        self.authMethod = authMethod
        self.timeoutMS = timeoutMS
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        endpoint = try c.decodeOptional(.endpoint)
        fallbackEndpoint = try c.decodeOptional(.fallbackEndpoint)
        clientID = try c.decode(.clientID)
        clientSecret = try c.decode(.clientSecret)
        authMethod = try c.decode(.authMethod, default: authMethod)
        timeoutMS = try c.decode(.timeoutMS, default: timeoutMS)
    }
}
