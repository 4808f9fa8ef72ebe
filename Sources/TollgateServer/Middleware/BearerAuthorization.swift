import HTTPTypes
import Hummingbird
import TollgateInbound

extension InboundAuthenticator {
    /// The decision for a request's `Authorization: Bearer` header (RFC 6750 §2.1), noted for the
    /// access log (and a refusal logged at debug).
    func authenticate(_ request: Request, context: TollgateRequestContext, requirement: RouteRequirement = .none) async -> Decision {
        let decision: Decision
        switch BearerToken.extract(fromAuthorization: request.headers[values: .authorization]) {
        case .success(let token): decision = await authenticate(token: token, requirement: requirement)
        case .failure(let reason): decision = refuse(reason)
        }
        context.noteDecision(decision)
        return decision
    }

    /// The decision for a token a front end extracted from its own wire format, noted the same way.
    func authenticate(token: String, context: TollgateRequestContext) async -> Decision {
        let decision = await authenticate(token: token)
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
