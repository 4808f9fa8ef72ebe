import TollgateKit
/// `GET /auth`: per-route rules and the proxies trusted to describe the route, which claims become identity headers, the header that may add required scopes,
/// the statuses a proxy sees when Tollgate cannot decide or the credential is malformed, and
/// `/auth/outbound/{server}` (an outbound token handed to the caller's own proxy).
public struct ForwardAuthConfig: Sendable, Decodable {
    public var claimsToHeaders: [String: String] = [
        "sub": "X-Auth-Subject", "client_id": "X-Auth-Client-Id", "scope": "X-Auth-Scopes", "issuer": "X-Auth-Issuer",
    ]
    public var requiredScopesHeader: String = "X-Required-Scopes"
    /// When the IdP cannot be asked. nginx passes only 2xx/401/403 (anything else becomes 500):
    /// 401 keeps a refusal visible there, marked `X-Tollgate-Error: unavailable`.
    public var statusOnUnavailable = 503
    /// When the `Authorization` header is not a well-formed Bearer credential.
    public var statusOnMalformed = 400
    public var outboundTokens = OutboundTokenInjectionConfig()
    /// Per-route requirements, first match wins, checked on cached decisions too.
    public var rules: [ForwardAuthRuleConfig] = []
    public var `default`: ForwardAuthDefault = .authenticated
    /// Peers whose `X-Forwarded-*` / `X-Original-*` headers describe the guarded request (CIDRs).
    public var trustedProxies = ["127.0.0.0/8", "::1/128"]

    enum CodingKeys: String, CodingKey, CaseIterable {
        case claimsToHeaders = "claims_to_headers"
        case requiredScopesHeader = "required_scopes_header"
        case statusOnUnavailable = "status_on_unavailable"
        case statusOnMalformed = "status_on_malformed"
        case outboundTokens = "outbound_tokens"
        case rules
        case `default`
        case trustedProxies = "trusted_proxies"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        claimsToHeaders = try c.decode(.claimsToHeaders, default: claimsToHeaders)
        requiredScopesHeader = try c.decode(.requiredScopesHeader, default: requiredScopesHeader)
        statusOnUnavailable = try c.decode(.statusOnUnavailable, default: statusOnUnavailable)
        statusOnMalformed = try c.decode(.statusOnMalformed, default: statusOnMalformed)
        outboundTokens = try c.decode(.outboundTokens, default: outboundTokens)
        rules = try c.decode(.rules, default: rules)
        `default` = try c.decode(.default, default: `default`)
        trustedProxies = try c.decode(.trustedProxies, default: trustedProxies)
    }
}

/// `forward_auth.outbound_tokens` — who may have an outbound server's token from
/// `/auth/outbound/{server}`: callers that pass the admin API's check (`admin`), or callers whose
/// own inbound token holds the scopes listed for that server (`bearer`; a server not listed is
/// refused).
public struct OutboundTokenInjectionConfig: Sendable, Decodable {
    public var auth: OutboundTokenInjectionAuth = .admin
    public var requiredScopes: [String: [String]] = [:]
    /// The answer header carrying `Bearer <token>`, for `auth_request_set`, Traefik's
    /// `authResponseHeaders` or Envoy's `allowed_upstream_headers`.
    public var header = "X-Upstream-Authorization"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case auth, header
        case requiredScopes = "required_scopes"
    }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        auth = try c.decode(.auth, default: auth)
        requiredScopes = try c.decode(.requiredScopes, default: requiredScopes)
        header = try c.decode(.header, default: header)
    }
}

public enum OutboundTokenInjectionAuth: String, ConfigEnum { case admin, bearer }
