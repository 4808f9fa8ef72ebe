import HTTPTypes
import Hummingbird
import TollgateInbound

extension InboundAuthenticator {
    /// The decision for a request's `Authorization` header, `Bearer` (RFC 6750 §2.1) or `DPoP`
    /// with its `DPoP` proof header (RFC 9449 §7.1), noted for the access log (and a refusal
    /// logged at debug). `proofTarget` is the request a proof must name (forward auth's guarded
    /// request); without one no proof can match, so a key-bound token is refused. `certificate`
    /// is the client's certificate for a certificate-bound token: by default the one this
    /// connection's TLS handshake verified (a caller that reaches Tollgate directly).
    func authenticate(
        _ request: Request, context: TollgateRequestContext, requirement: RouteRequirement = .none,
        proofTarget: () -> ProofTarget? = { nil }, certificate: TokenPresentation.CertificateSource? = nil
    ) async -> Decision {
        let decision: Decision
        switch BearerToken.extractWithScheme(fromAuthorization: request.headers[values: .authorization]) {
        case .success((let token, let scheme)):
            let channel = context.channel
            let certificate = certificate ?? { await ClientCertificate.thumbprint(on: channel) }
            // Only a DPoP proof names a request: the target is worked out for that scheme alone.
            let target = scheme == .dpop ? proofTarget() : nil
            let presentation = TokenPresentation(
                scheme: scheme, proofs: scheme == .dpop ? request.headers[values: .dpop] : [], method: target?.method, uri: target?.uri,
                certificate: certificate)
            decision = await authenticate(token: token, requirement: requirement, presentation: presentation)
        case .failure(let reason): decision = refuse(reason)
        }
        context.noteDecision(decision)
        return decision
    }

    /// The decision for a token a front end extracted from its own wire format, noted the same way.
    func authenticate(token: String, context: TollgateRequestContext, presentation: TokenPresentation = .bearer) async -> Decision {
        let decision = await authenticate(token: token, presentation: presentation)
        context.noteDecision(decision)
        return decision
    }

    /// The decision for a token settled without waiting (the event-loop path), noted the same way.
    func decide(_ settled: SettledToken, requirement: RouteRequirement, context: TollgateRequestContext) -> Decision {
        let decision = decide(settled, requirement: requirement)
        context.noteDecision(decision)
        return decision
    }

    /// A refusal decided before any token was at hand, noted the same way.
    func refuse(_ reason: DenialReason, context: TollgateRequestContext) -> Decision {
        let decision = refuse(reason)
        context.noteDecision(decision)
        return decision
    }
}

/// The request a DPoP proof must name (`htm`, `htu`): as a trusted proxy described it.
struct ProofTarget: Sendable, Equatable {
    let method: String
    let uri: String
}

extension HTTPField.Name {
    /// RFC 9449 §4.1.
    static let dpop = Self("DPoP")!
}
