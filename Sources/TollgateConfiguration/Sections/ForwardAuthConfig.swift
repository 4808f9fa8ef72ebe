/// `GET /auth`: per-route rules and the proxies trusted to describe the route, which claims become identity headers, the header that may add required scopes,
/// the statuses a proxy sees when Tollgate cannot decide or the credential is malformed, and
/// `/auth/outbound/{server}` (an outbound token handed to the caller's own proxy).
package struct ForwardAuthConfig: Sendable, Decodable {
    package var claimsToHeaders: [String: String] = [
        "sub": "X-Auth-Subject", "client_id": "X-Auth-Client-Id", "scope": "X-Auth-Scopes", "issuer": "X-Auth-Issuer",
    ]
    package var requiredScopesHeader: String = "X-Required-Scopes"
    /// When the IdP cannot be asked. nginx passes only 2xx/401/403 (anything else becomes 500):
    /// 401 keeps a refusal visible there, marked `X-Tollgate-Error: unavailable`.
    package var statusOnUnavailable = 503
    /// When the `Authorization` header is not a well-formed Bearer credential.
    package var statusOnMalformed = 400
    package var outboundTokens = OutboundTokenInjectionConfig()
    /// Per-route requirements, first match wins, checked on cached decisions too.
    package var rules: [ForwardAuthRuleConfig] = []
    /// Nil when not written: `deny` once rules exist, else `authenticated`. Only a written
    /// `authenticated` lets a request nothing describes pass as "any accepted token".
    package var `default`: ForwardAuthDefault?
    /// Peers whose `X-Forwarded-*` / `X-Original-*` headers describe the guarded request (CIDRs).
    package var trustedProxies = ["127.0.0.0/8", "::1/128"]
    /// Which proxy asks, so that only the headers that proxy sets are read.
    package var proxy: ForwardAuthProxy = .auto
    /// Where `?allowed_groups=` looks for the token's groups (a dotted claim path).
    package var groupsClaim = "groups"
    /// The header a trusted proxy puts the client's TLS certificate in, for certificate-bound
    /// tokens (RFC 8705); nil: none is read.
    package var clientCertificate: ForwardedCertificateConfig?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case claimsToHeaders = "claims_to_headers"
        case requiredScopesHeader = "required_scopes_header"
        case statusOnUnavailable = "status_on_unavailable"
        case statusOnMalformed = "status_on_malformed"
        case outboundTokens = "outbound_tokens"
        case rules
        case `default`
        case trustedProxies = "trusted_proxies"
        case proxy
        case groupsClaim = "groups_claim"
        case clientCertificate = "client_certificate"
    }

    package init() {}

    /// What a request no rule matches gets: as written, else `deny` once rules exist.
    package var effectiveDefault: ForwardAuthDefault { `default` ?? (rules.isEmpty ? .authenticated : .deny) }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        claimsToHeaders = try c.decode(.claimsToHeaders, default: claimsToHeaders)
        requiredScopesHeader = try c.decode(.requiredScopesHeader, default: requiredScopesHeader)
        statusOnUnavailable = try c.decode(.statusOnUnavailable, default: statusOnUnavailable)
        statusOnMalformed = try c.decode(.statusOnMalformed, default: statusOnMalformed)
        outboundTokens = try c.decode(.outboundTokens, default: outboundTokens)
        rules = try c.decode(.rules, default: rules)
        `default` = try c.decodeOptional(.default)
        trustedProxies = try c.decode(.trustedProxies, default: trustedProxies)
        proxy = try c.decode(.proxy, default: proxy)
        groupsClaim = try c.decode(.groupsClaim, default: groupsClaim)
        clientCertificate = try c.decodeOptional(.clientCertificate)
    }
}

/// `forward_auth.client_certificate`: where a trusted proxy forwards the client's certificate.
package struct ForwardedCertificateConfig: Sendable, Decodable {
    package enum Format: String, ConfigEnum {
        /// A PEM certificate, URL-encoded or not: nginx's `$ssl_client_escaped_cert`, Caddy's
        /// `{http.request.tls.client.certificate_pem}`.
        case pem
        /// Base64 DER without PEM lines, URL-encoded or not: Traefik's `passTLSClientCert` (`pem: true`).
        case derBase64 = "der_base64"
        /// Envoy's `X-Forwarded-Client-Cert`: its one element's `Hash` (or `Cert`).
        case xfcc
    }

    package var header: String
    package var format: Format

    enum CodingKeys: String, CodingKey, CaseIterable { case header, format }

    package init(header: String, format: Format) {
        self.header = header
        self.format = format
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        header = try c.decode(.header)
        format = try c.decode(.format)
    }
}

/// `forward_auth.proxy`: the proxy that asks, and so the only headers that describe its request.
package enum ForwardAuthProxy: String, ConfigEnum {
    /// Every known header; any two that disagree are refused; else the path under `/auth/`.
    case auto
    /// `X-Original-Method`, `X-Original-URI`, `X-Forwarded-Host` (docs/nginx-auth-request.conf).
    case nginx
    /// `X-Original-URL` and `X-Original-Method` (the `auth-url` annotation's template).
    case ingressNginx = "ingress-nginx"
    /// `X-Forwarded-Method`, `X-Forwarded-Uri`, `X-Forwarded-Host` (ForwardAuth).
    case traefik
    /// The path under `/auth/` with the request's own method and `Host` (ext_authz `path_prefix`).
    case envoy
    /// `X-Forwarded-Method`, `X-Forwarded-Uri`, `X-Forwarded-Host` (`forward_auth`).
    case caddy
    /// `X-Forwarded-Uri`, `X-Forwarded-Host` (else `Host`) and `X-Forwarded-Method` when sent: an
    /// nginx configuration written for oauth2-proxy's `/oauth2/auth`.
    case oauth2Proxy = "oauth2-proxy"
}

/// `forward_auth.outbound_tokens` — who may have an outbound server's token from
/// `/auth/outbound/{server}`: callers that pass the admin API's check (`admin`), or callers whose
/// own inbound token holds the scopes listed for that server (`bearer`; a server not listed is
/// refused).
package struct OutboundTokenInjectionConfig: Sendable, Decodable {
    package var auth: OutboundTokenInjectionAuth = .admin
    package var requiredScopes: [String: [String]] = [:]
    /// The answer header carrying `Bearer <token>`, for `auth_request_set`, Traefik's
    /// `authResponseHeaders` or Envoy's `allowed_upstream_headers`.
    package var header = "X-Upstream-Authorization"

    enum CodingKeys: String, CodingKey, CaseIterable {
        case auth, header
        case requiredScopes = "required_scopes"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        auth = try c.decode(.auth, default: auth)
        requiredScopes = try c.decode(.requiredScopes, default: requiredScopes)
        header = try c.decode(.header, default: header)
    }
}

package enum OutboundTokenInjectionAuth: String, ConfigEnum { case admin, bearer }
