/// Why a token could not be had. Descriptions carry status codes and the IdP's error code,
/// never a token or a secret.
package struct TokenFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Kind: String, Sendable, CaseIterable {
        case timeout
        case unreachable
        case serverError = "server_error"
        case rateLimited = "rate_limited"
        case unparseable
        case clientError = "client_error"
        case circuitOpen = "circuit_open"
        case signing
        /// A credential Tollgate reads from a file could not be had (missing, unreadable, not a JWT).
        case credentials
    }

    package let kind: Kind
    package let status: UInt?
    /// The RFC 6749 §5.2 `error` code, when the endpoint gave one.
    package let oauthError: String?
    package let detail: String
    /// Seconds the endpoint asked us to wait (Retry-After), or until the breaker lets a probe through.
    package let retryAfter: Double?

    package init(_ kind: Kind, status: UInt? = nil, oauthError: String? = nil, detail: String, retryAfter: Double? = nil) {
        self.kind = kind
        self.status = status
        self.oauthError = oauthError
        self.detail = detail
        self.retryAfter = retryAfter
    }

    /// Transient failures are retried; a 4xx answer means our request or credentials are wrong,
    /// and repeating it only burns the IdP's rate limit.
    package var isRetryable: Bool {
        switch kind {
        case .timeout, .unreachable, .serverError, .rateLimited, .unparseable: true
        case .clientError, .circuitOpen, .signing, .credentials: false
        }
    }

    /// Whether this failure says anything about the endpoint's health (feeds the circuit breaker).
    var countsAgainstEndpoint: Bool { isRetryable }

    /// The failure's kind and HTTP status only: safe where an IdP's own words are not.
    package var failureClass: String {
        kind.rawValue + (status.map { " (HTTP \($0))" } ?? "")
    }

    package var description: String {
        var text = kind.rawValue
        if let status { text += " (HTTP \(status))" }
        if let oauthError { text += " \(oauthError)" }
        return text + ": " + detail
    }
}
