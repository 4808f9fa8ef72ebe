/// `inbound.issuers[].userinfo`: enrich an active token with the OIDC userinfo answer (OIDC Core
/// §5.3), once per decision-cache miss, cached with the decision.
package struct UserinfoConfig: Sendable, Decodable {
    package enum OnError: String, ConfigEnum {
        /// Serve the token's own claims, and log.
        case ignore
        /// No decision: 503, like an unreachable IdP.
        case indeterminate
    }

    package var enabled = false
    /// Default: the discovery document's `userinfo_endpoint`.
    package var endpoint: String?
    package var timeoutMS = 2000
    /// The userinfo claims kept (string, number or boolean values); `sub` is always read, to check it.
    package var claims: [String] = ["email", "name", "preferred_username", "given_name", "family_name"]
    package var onError: OnError = .ignore

    enum CodingKeys: String, CodingKey, CaseIterable {
        case enabled, endpoint, claims
        case timeoutMS = "timeout_ms"
        case onError = "on_error"
    }

    /// What decides access: these never come from userinfo.
    package static let reserved: Set<String> = [
        "sub", "iss", "aud", "exp", "iat", "nbf", "scope", "scp", "client_id", "active",
        "token_type", "jti", "cnf", "roles", "groups", "azp",
    ]

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        enabled = try c.decode(.enabled, default: enabled)
        endpoint = try c.decodeOptional(.endpoint)
        timeoutMS = try c.decode(.timeoutMS, default: timeoutMS)
        claims = try c.decode(.claims, default: claims)
        onError = try c.decode(.onError, default: onError)
    }
}
