import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// RFC 6750 §3 answers for any front-end that speaks plain HTTP bearer auth.
enum BearerChallenge {
    static let realm = "tollgate"

    /// Statuses a front end may choose for the answers proxies mishandle (nginx turns anything but
    /// 2xx/401/403 into 500; Envoy turns 5xx into `status_on_error`).
    struct Statuses: Sendable {
        var unavailable: HTTPResponse.Status = .serviceUnavailable
        var malformed: HTTPResponse.Status = .badRequest
    }

    /// The status and `WWW-Authenticate` for a decision that did not allow the request.
    /// `description` replaces the reason's own sentence for a malformed request.
    static func response(for decision: Decision, statuses: Statuses = Statuses(), description: String? = nil) -> Response {
        answer(for: decision, statuses: statuses, description: description).response
    }

    static func answer(for decision: Decision, statuses: Statuses = Statuses(), description: String? = nil) -> Answer {
        switch decision.verdict {
        case .allowed:
            return Answer(status: .ok)
        case .denied(.missingToken), .denied(.unsupportedCredential):
            // No credentials for this scheme: a bare challenge, no error code (RFC 6750 §3.1).
            return challenge(.unauthorized, #"Bearer realm="\#(realm)""#)
        case .denied(.malformed):
            return challenge(
                statuses.malformed,
                header(error: "invalid_request", description: description ?? "The Authorization header is not a well-formed Bearer credential"))
        case .denied(.scope):
            let scope = decision.missingScopes.joined(separator: " ")
            return insufficientScope(
                header(error: "insufficient_scope", description: DenialReason.scope.message) + #", scope="\#(quoted(scope))""#, DenialReason.scope.message)
        case .denied(.noRule), .denied(.untrustedProxy), .denied(.unknownRequest):
            // Nothing allows the route, or the request cannot be told: no credential would help, so no challenge.
            return refusal(.forbidden, decision, description: description)
        case .denied(.ambiguousPath), .denied(.unknownConstraint):
            return refusal(.badRequest, decision, description: description)
        case .denied(.conflictingFacts):
            var response = challenge(
                statuses.malformed, header(error: "invalid_request", description: "The forwarded request headers are inconsistent: " + (description ?? "")))
            response.headers[.xTollgateError] = DenialReason.conflictingFacts.rawValue
            return response
        case .denied(let reason) where !decision.dpopAlgorithms.isEmpty:
            // RFC 9449 §7.1: a proof problem is `invalid_dpop_proof`, a token that needs one `invalid_token`.
            // §9: a missing or stale server nonce is `use_dpop_nonce`, with the nonce to use.
            let error =
                switch reason {
                case .invalidDPoPProof, .dpopReplay: "invalid_dpop_proof"
                case .useDPoPNonce: "use_dpop_nonce"
                default: "invalid_token"
                }
            var response = challenge(
                .unauthorized,
                #"DPoP error="\#(error)", error_description="\#(quoted(reason.message))", algs="\#(quoted(decision.dpopAlgorithms.joined(separator: " ")))""#)
            response.headers[.dpopNonce] = decision.dpopNonce
            return response
        case .denied(let reason) where decision.isForbidden:
            return insufficientScope(header(error: "insufficient_scope", description: reason.message), reason.message)
        case .denied(let reason):
            return challenge(.unauthorized, header(error: "invalid_token", description: reason.message))
        case .indeterminate:
            // Cannot decide: never report the token as invalid (Envoy #14557's lesson). A 401 chosen
            // for nginx carries a bare challenge and says why in a header of its own.
            var response = Answer(status: statuses.unavailable)
            response.headers[.retryAfter] = "5"
            response.headers[.cacheControl] = "no-store"
            response.headers[.xTollgateError] = "unavailable"
            if statuses.unavailable == .unauthorized { response.headers[.wwwAuthenticate] = #"Bearer realm="\#(realm)""# }
            return response
        }
    }

    /// A refusal about the request rather than the token: `X-Tollgate-Error` names it, the body says why.
    private static func refusal(_ status: HTTPResponse.Status, _ decision: Decision, description: String?) -> Answer {
        guard case .denied(let reason) = decision.verdict else { return Answer(status: status) }
        let why = description.map { "\(reason.message): \($0)" } ?? reason.message
        let body = JSONText.object([("error", .string(reason.rawValue)), ("error_description", .string(PrintableText.clean(why, limit: 300)))])
        return Answer.json(body, status: status, headers: [.cacheControl: "no-store", .xTollgateError: reason.rawValue])
    }

    /// 403 with the challenge, and the same words as a body: every 403 Tollgate answers carries an
    /// `OAuthError` body, and Traefik and Caddy show the caller what it says.
    private static func insufficientScope(_ challenge: String, _ description: String) -> Answer {
        let body = JSONText.object([("error", .string("insufficient_scope")), ("error_description", .string(description))])
        return Answer.json(body, status: .forbidden, headers: [.wwwAuthenticate: challenge, .cacheControl: "no-store"])
    }

    private static func header(error: String, description: String) -> String {
        #"Bearer realm="\#(realm)", error="\#(error)", error_description="\#(quoted(description))""#
    }

    private static func challenge(_ status: HTTPResponse.Status, _ value: String) -> Answer {
        Answer(status: status, headers: [.wwwAuthenticate: value, .cacheControl: "no-store"])
    }

    /// RFC 6750 §3: error_description and scope must not contain `"` or `\`.
    private static func quoted(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" })
    }
}

extension HTTPField.Name {
    /// Why a refusal is not about the token: `unavailable` (the IdP could not be asked), `no_rule`,
    /// `ambiguous_path`, `untrusted_proxy`, `unknown_request`, `conflicting_facts`, `unknown_constraint`.
    static let xTollgateError = Self("X-Tollgate-Error")!
    /// RFC 9449 §8.1/§9: the nonce the next DPoP proof must carry.
    static let dpopNonce = Self("DPoP-Nonce")!
}
