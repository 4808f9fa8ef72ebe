/// How a token reached Tollgate, with what a bound token needs checked against the request it
/// came with. Adapters fill it from their own wire format; the binding is decided in Inbound.
package struct TokenPresentation: Sendable {
    /// The base64url SHA-256 of the verified client certificate's DER, looked up only for a
    /// certificate-bound token; nil when the request came with none Tollgate can vouch for.
    package typealias CertificateSource = @Sendable () async -> String?

    package enum Scheme: Sendable, Equatable {
        /// `Authorization: Bearer`, or a token handed over in a body: proves nothing but possession.
        case bearer
        /// `Authorization: DPoP` (RFC 9449 §7.1), with proofs in `proofs`.
        case dpop
    }

    package var scheme: Scheme
    /// The `DPoP` request header values (exactly one is valid).
    package var proofs: [String]
    /// The guarded request's method and absolute URI, as the proof's `htm` and `htu` must name
    /// them; nil when not known from a trusted source (then no proof can match).
    package var method: String?
    package var uri: String?
    /// The client certificate: Tollgate's own TLS listener's, or one a trusted proxy forwarded.
    package var certificate: CertificateSource

    package init(
        scheme: Scheme, proofs: [String] = [], method: String? = nil, uri: String? = nil, certificate: @escaping CertificateSource = { nil }
    ) {
        self.scheme = scheme
        self.proofs = proofs
        self.method = method
        self.uri = uri
        self.certificate = certificate
    }

    /// A token with nothing but possession behind it.
    package static let bearer = TokenPresentation(scheme: .bearer)
}
