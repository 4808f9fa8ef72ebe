package struct InboundConfig: Sendable, Decodable {
    package var cache = CacheConfig()
    package var issuers: [IssuerConfig] = []
    package var dpop = DPoPConfig()

    enum CodingKeys: String, CodingKey, CaseIterable { case cache, issuers, dpop }

    package init(cache: CacheConfig = .init(), issuers: [IssuerConfig] = []) {
        self.cache = cache
        self.issuers = issuers
    }

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        cache = try c.decode(.cache, default: cache)
        issuers = try c.decode(.issuers, default: issuers)
        dpop = try c.decode(.dpop, default: dpop)
    }
}

/// How DPoP proofs (RFC 9449) are checked for tokens bound to a key (`cnf.jkt`). The proof's
/// algorithm must be one of its issuer's `algorithms` (asymmetric only).
package struct DPoPConfig: Sendable, Decodable {
    /// A proof's `iat` may be at most this old…
    package var proofMaxAgeSeconds: Int = 60
    /// …and at most this far in the future (clock skew between client and Tollgate).
    package var clockSkewSeconds: Int = 5
    /// Proof `jti`s remembered to refuse a replay; a full table of live entries refuses new proofs
    /// (as undecidable) rather than forget one.
    package var replayCacheEntries: Int = 100_000
    /// RFC 9449 §9: proofs must carry a nonce Tollgate issued (`DPoP-Nonce`, `use_dpop_nonce`).
    package var requireNonce = false
    /// How long a nonce stays current; it is accepted for one more such period after.
    package var nonceLifetimeSeconds: Int = 300
    /// The key nonces are made with (at least 32 bytes): the same file on every replica, so that a
    /// nonce one replica issued is accepted by the others. Without it each process has its own.
    package var nonceKeyFile: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case proofMaxAgeSeconds = "proof_max_age_seconds"
        case clockSkewSeconds = "clock_skew_seconds"
        case replayCacheEntries = "replay_cache_entries"
        case requireNonce = "require_nonce"
        case nonceLifetimeSeconds = "nonce_lifetime_seconds"
        case nonceKeyFile = "nonce_key_file"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        proofMaxAgeSeconds = try c.decode(.proofMaxAgeSeconds, default: proofMaxAgeSeconds)
        clockSkewSeconds = try c.decode(.clockSkewSeconds, default: clockSkewSeconds)
        replayCacheEntries = try c.decode(.replayCacheEntries, default: replayCacheEntries)
        requireNonce = try c.decode(.requireNonce, default: requireNonce)
        nonceLifetimeSeconds = try c.decode(.nonceLifetimeSeconds, default: nonceLifetimeSeconds)
        nonceKeyFile = try c.decodeOptional(.nonceKeyFile)
    }
}

package struct CacheConfig: Sendable, Decodable {
    package var maxEntries: Int = 100_000
    package var maxTTLSeconds: Int = 300
    package var negativeTTLSeconds: Int = 10

    enum CodingKeys: String, CodingKey, CaseIterable {
        case maxEntries = "max_entries"
        case maxTTLSeconds = "max_ttl_seconds"
        case negativeTTLSeconds = "negative_ttl_seconds"
    }

    package init() {}

    package init(from decoder: any Decoder) throws {
        let c = try decoder.strictContainer(keyedBy: CodingKeys.self)
        maxEntries = try c.decode(.maxEntries, default: maxEntries)
        maxTTLSeconds = try c.decode(.maxTTLSeconds, default: maxTTLSeconds)
        negativeTTLSeconds = try c.decode(.negativeTTLSeconds, default: negativeTTLSeconds)
    }
}

package enum IssuerMode: String, ConfigEnum { case introspection, jwt, auto }

/// JWS algorithms an issuer may use (RFC 7518 / RFC 8037). `none` and HMAC are deliberately absent.
package enum JWSAlgorithmName: String, ConfigEnum {
    case rs256 = "RS256", rs384 = "RS384", rs512 = "RS512"
    case ps256 = "PS256", ps384 = "PS384", ps512 = "PS512"
    case es256 = "ES256", es384 = "ES384", es512 = "ES512"
    case eddsa = "EdDSA"
}
