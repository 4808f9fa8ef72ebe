/// How a token reached Tollgate, with what a bound token needs checked against the request it
/// came with. Adapters fill it from their own wire format; the binding is decided in Inbound.
package struct TokenPresentation: Sendable {
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
    /// The base64url SHA-256 of the client certificate's DER, when a verified one came with the
    /// request (Tollgate's own TLS listener, or a trusted proxy).
    package var certificateThumbprint: String?

    package init(
        scheme: Scheme, proofs: [String] = [], method: String? = nil, uri: String? = nil, certificateThumbprint: String? = nil
    ) {
        self.scheme = scheme
        self.proofs = proofs
        self.method = method
        self.uri = uri
        self.certificateThumbprint = certificateThumbprint
    }

    /// A token with nothing but possession behind it.
    package static let bearer = TokenPresentation(scheme: .bearer)
}
