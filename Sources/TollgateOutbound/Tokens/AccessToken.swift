/// An access token from a token endpoint. Held in memory only; its text never reaches a log.
package struct AccessToken: Sendable, Equatable {
    package let value: String
    package let obtainedAt: Double
    package let expiresAt: Double
    /// True when the endpoint gave no usable `expires_in` and `default_expires_in` was assumed.
    package let lifetimeAssumed: Bool
    /// The granted scope when the endpoint said (RFC 6749 §5.1), printable ASCII only.
    package var scope: String? = nil
    /// A refresh token when the endpoint issued one (RFC 6749 §5.1); a secret like the token.
    package var refreshToken: String? = nil
    /// The OIDC ID token of a code exchange with `openid` (OIDC Core §3.1.3.3), unverified here:
    /// whoever asked for it checks it.
    package var idToken: String? = nil
    /// `token_type` DPoP (RFC 9449 §5): bound to the server's DPoP key, usable only with a proof
    /// Tollgate signs, so it is sent by the proxy and never handed out.
    package var isDPoPBound = false

    package init(
        value: String, obtainedAt: Double, expiresAt: Double, lifetimeAssumed: Bool, scope: String? = nil, refreshToken: String? = nil,
        idToken: String? = nil
    ) {
        self.value = value
        self.obtainedAt = obtainedAt
        self.expiresAt = expiresAt
        self.lifetimeAssumed = lifetimeAssumed
        self.scope = scope
        self.refreshToken = refreshToken
        self.idToken = idToken
    }

    package var lifetime: Double { expiresAt - obtainedAt }

    /// Usable until shortly before its real expiry (a tenth of its life, at most 5 s), so a token
    /// is never injected when it would expire in flight.
    package func isUsable(at now: Double) -> Bool {
        now < expiresAt - min(5, lifetime / 10)
    }

    package func secondsLeft(at now: Double) -> Int { max(0, Int(saturating: expiresAt - now)) }
}
