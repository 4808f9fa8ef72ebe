import Logging

/// The whole of `config.yaml`. Each nested type mirrors one YAML mapping, key for key.
public struct TollgateConfig: Sendable, Decodable {
    public var server: ServerConfig
    public var log: LogConfig
    public var inbound: InboundConfig
    public var devIssuer: DevIssuerConfig
    public var forwardAuth: ForwardAuthConfig
    public var outbound: OutboundConfig
    public var admin: AdminConfig
    public var proxy: ProxyConfig
    public var orthanc: OrthancConfig

    enum CodingKeys: String, CodingKey, CaseIterable {
        case server, log, inbound, outbound, admin, proxy, orthanc
        case devIssuer = "dev_issuer"
        case forwardAuth = "forward_auth"
    }

    public init(server: ServerConfig = .init(), log: LogConfig = .init(), inbound: InboundConfig = .init(), devIssuer: DevIssuerConfig = .init()) {
        self.server = server
        self.log = log
        self.inbound = inbound
        self.devIssuer = devIssuer
        self.forwardAuth = ForwardAuthConfig()
        self.outbound = OutboundConfig()
        self.admin = AdminConfig()
        self.proxy = ProxyConfig()
        self.orthanc = OrthancConfig()
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        server = try c.decode(.server, default: ServerConfig())
        log = try c.decode(.log, default: LogConfig())
        inbound = try c.decode(.inbound, default: InboundConfig())
        devIssuer = try c.decode(.devIssuer, default: DevIssuerConfig())
        forwardAuth = try c.decode(.forwardAuth, default: ForwardAuthConfig())
        outbound = try c.decode(.outbound, default: OutboundConfig())
        admin = try c.decode(.admin, default: AdminConfig())
        proxy = try c.decode(.proxy, default: ProxyConfig())
        orthanc = try c.decode(.orthanc, default: OrthancConfig())
    }
}

public struct ServerConfig: Sendable, Decodable {
    public var host: String = "127.0.0.1"
    public var port: Int = 8080
    public var maxBodyBytes: Int = 65536
    /// On SIGTERM: stop accepting, let in-flight requests finish for up to this long, exit 0.
    public var shutdownGraceSeconds: Int = 25

    enum CodingKeys: String, CodingKey, CaseIterable {
        case host, port
        case maxBodyBytes = "max_body_bytes"
        case shutdownGraceSeconds = "shutdown_grace_seconds"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        host = try c.decode(.host, default: host)
        port = try c.decode(.port, default: port)
        maxBodyBytes = try c.decode(.maxBodyBytes, default: maxBodyBytes)
        shutdownGraceSeconds = try c.decode(.shutdownGraceSeconds, default: shutdownGraceSeconds)
    }
}

public enum LogFormat: String, ConfigEnum { case json, text }

public struct LogConfig: Sendable, Decodable {
    public var level: Logger.Level = .info
    public var format: LogFormat = .json

    enum CodingKeys: String, CodingKey, CaseIterable { case level, format }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        if let raw: String = try c.decodeOptional(.level) {
            guard let parsed = Logger.Level(rawValue: raw) else {
                let allowed = Logger.Level.allCases.map(\.rawValue).joined(separator: " | ")
                throw ConfigError(path: c.codingPath + [CodingKeys.level], message: "must be one of \(allowed)")
            }
            level = parsed
        }
        format = try c.decode(.format, default: format)
    }
}

public struct InboundConfig: Sendable, Decodable {
    public var cache = CacheConfig()
    public var issuers: [IssuerConfig] = []

    enum CodingKeys: String, CodingKey, CaseIterable { case cache, issuers }

    public init(cache: CacheConfig = .init(), issuers: [IssuerConfig] = []) {
        self.cache = cache
        self.issuers = issuers
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        cache = try c.decode(.cache, default: cache)
        issuers = try c.decode(.issuers, default: issuers)
    }
}

public struct CacheConfig: Sendable, Decodable {
    public var maxEntries: Int = 100_000
    public var maxTTLSeconds: Int = 300
    public var negativeTTLSeconds: Int = 10

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxEntries = "max_entries"
        case maxTTLSeconds = "max_ttl_seconds"
        case negativeTTLSeconds = "negative_ttl_seconds"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        maxEntries = try c.decode(.maxEntries, default: maxEntries)
        maxTTLSeconds = try c.decode(.maxTTLSeconds, default: maxTTLSeconds)
        negativeTTLSeconds = try c.decode(.negativeTTLSeconds, default: negativeTTLSeconds)
    }
}

public enum IssuerMode: String, ConfigEnum { case introspection, jwt, auto }

/// JWS algorithms an issuer may use (RFC 7518 / RFC 8037). `none` and HMAC are deliberately absent.
public enum JWSAlgorithmName: String, ConfigEnum {
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    case eddsa = "EdDSA"
}

public enum ClientAuthMethod: String, ConfigEnum {
    case clientSecretBasic = "client_secret_basic"
    case clientSecretPost = "client_secret_post"
}

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

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, issuer, embedded, discovery, mode, introspection, audiences, tls, algorithms, jwks
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

/// `GET /auth`: which claims become identity headers, and the header that may add required scopes.
public struct ForwardAuthConfig: Sendable, Decodable {
    public var claimsToHeaders: [String: String] = [
        "sub": "X-Auth-Subject", "client_id": "X-Auth-Client-Id", "scope": "X-Auth-Scopes", "issuer": "X-Auth-Issuer",
    ]
    public var requiredScopesHeader: String = "X-Required-Scopes"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case claimsToHeaders = "claims_to_headers"
        case requiredScopesHeader = "required_scopes_header"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        claimsToHeaders = try c.decode(.claimsToHeaders, default: claimsToHeaders)
        requiredScopesHeader = try c.decode(.requiredScopesHeader, default: requiredScopesHeader)
    }
}

public struct IntrospectionConfig: Sendable, Decodable {
    /// Optional when discovery is on: the discovery document's `introspection_endpoint` is used.
    public var endpoint: String?
    public var clientID: String
    public var clientSecret: Secret
    public var authMethod: ClientAuthMethod = .clientSecretBasic
    public var timeoutMS: Int = 2000

    enum CodingKeys: String, CodingKey, CaseIterable {
        case endpoint
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
        clientID = try c.decode(.clientID)
        clientSecret = try c.decode(.clientSecret)
        authMethod = try c.decode(.authMethod, default: authMethod)
        timeoutMS = try c.decode(.timeoutMS, default: timeoutMS)
    }
}

public struct TLSConfig: Sendable, Decodable {
    /// Extra PEM CA bundle trusted in addition to the system roots (hospital-internal CAs).
    public var caFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable { case caFile = "ca_file" }

    public init(caFile: String? = nil) { self.caFile = caFile }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        caFile = try c.decodeOptional(.caFile)
    }
}

public struct DevIssuerConfig: Sendable, Decodable {
    public var enabled: Bool = false
    /// Overrides the derived `http://{server.host}:{server.port}/dev-issuer` (e.g. behind a container name).
    public var issuer: String?
    public var tokenTTLSeconds: Int = 3600
    public var signingKeyFile: String?
    /// `aud` of issued tokens when the token request names no `resource`.
    public var audience: String = "tollgate"
    public var clients: [DevClientConfig] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, issuer, audience, clients
        case tokenTTLSeconds = "token_ttl_seconds"
        case signingKeyFile = "signing_key_file"
    }

    public init(enabled: Bool = false, clients: [DevClientConfig] = []) {
        self.enabled = enabled
        self.clients = clients
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: enabled)
        issuer = try c.decodeOptional(.issuer)
        tokenTTLSeconds = try c.decode(.tokenTTLSeconds, default: tokenTTLSeconds)
        signingKeyFile = try c.decodeOptional(.signingKeyFile)
        audience = try c.decode(.audience, default: audience)
        clients = try c.decode(.clients, default: clients)
    }
}

public struct DevClientConfig: Sendable, Decodable {
    public var clientID: String
    public var clientSecret: Secret
    public var scopes: [String] = []

    enum CodingKeys: String, CodingKey, CaseIterable {
        case clientID = "client_id"
        case clientSecret = "client_secret"
        case scopes
    }

    public init(clientID: String, clientSecret: String, scopes: [String]) {
        self.clientID = clientID
        self.clientSecret = Secret(clientSecret)
        self.scopes = scopes
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        clientID = try c.decode(.clientID)
        clientSecret = try c.decode(.clientSecret)
        scopes = try c.decode(.scopes, default: scopes)
    }
}
