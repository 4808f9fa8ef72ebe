/// Why a token was refused. The raw value is a bounded metric label.
package enum DenialReason: String, Sendable, CaseIterable, Error {
    case missingToken = "missing_token"
    case malformed
    case tooLarge = "too_large"
    case unsupportedCredential = "unsupported_credential"
    case inactive
    case expired
    case notYetValid = "not_yet_valid"
    case issuerMismatch = "issuer_mismatch"
    case audience
    case scope
    case unknownIssuer = "unknown_issuer"
    case invalidSignature = "invalid_signature"
    case unknownKey = "unknown_key"
    case algorithm
    case wrongType = "wrong_type"
    case missingExpiry = "missing_exp"
    case unsupportedHeader = "unsupported_header"
    case notJWT = "not_jwt"
    /// Forward-auth rules: no rule allows the request, or the matched rule wants more.
    case noRule = "no_rule"
    case role
    case routeAudience = "route_audience"
    case routeIssuer = "route_issuer"
    /// The auth URL's `allowed_groups`, `allowed_emails`, `allowed_email_domains` (oauth2-proxy's).
    case group
    case email
    /// Forward-auth facts that cannot be trusted or read: refused before any token is looked at.
    case ambiguousPath = "ambiguous_path"
    case untrustedProxy = "untrusted_proxy"
    case unknownRequest = "unknown_request"
    case conflictingFacts = "conflicting_facts"
    case unknownConstraint = "unknown_constraint"
    /// Orthanc routes: the profile holds none of the permissions the route needs (and no share
    /// token covers the resource), or it may not see the resource's labels.
    case permission
    case labels
    /// Sender-constrained tokens (RFC 9449, RFC 8705): a key-bound token presented as a bearer
    /// token, a `cnf` Tollgate cannot check, a DPoP proof that fails, or the wrong key or certificate.
    case boundTokenAsBearer = "bound_token_as_bearer"
    case unsupportedBinding = "unsupported_binding"
    case invalidDPoPProof = "invalid_dpop_proof"
    case dpopReplay = "dpop_replay"
    case useDPoPNonce = "use_dpop_nonce"
    case bindingMismatch = "binding_mismatch"
    case certificateMismatch = "certificate_mismatch"

    /// A human sentence for error descriptions; never contains the token.
    package var message: String {
        switch self {
        case .missingToken: "Missing token"
        case .malformed: "Malformed token"
        case .tooLarge: "Token too large"
        case .unsupportedCredential: "Unsupported credential type"
        case .inactive: "Token is not active"
        case .expired: "Token has expired"
        case .notYetValid: "Token is not yet valid"
        case .issuerMismatch: "Token issuer is not accepted"
        case .audience: "Token audience is not accepted"
        case .scope: "Token lacks a required scope"
        case .unknownIssuer: "No configured issuer accepts this token"
        case .invalidSignature: "Token signature is invalid"
        case .unknownKey: "Token signing key is unknown"
        case .algorithm: "Token algorithm is not accepted for this key"
        case .wrongType: "Token type is not accepted"
        case .missingExpiry: "Token has no expiry"
        case .unsupportedHeader: "Token carries an unsupported critical header"
        case .notJWT: "Token is not a well-formed JWT"
        case .noRule: "No access rule allows this request"
        case .role: "Token lacks a required role"
        case .routeAudience: "Token audience is not accepted for this route"
        case .routeIssuer: "Token issuer is not accepted for this route"
        case .group: "Token lacks a required group"
        case .email: "Token email is not allowed for this route"
        case .ambiguousPath: "The guarded path could be read differently by the backend"
        case .untrustedProxy: "The forwarded request came from a peer that is not a trusted proxy"
        case .unknownRequest: "The proxy did not say enough about the guarded request to apply the rules"
        case .conflictingFacts: "The forwarded request headers are inconsistent"
        case .unknownConstraint: "The auth URL carries a constraint Tollgate does not understand"
        case .permission: "No permission this route needs, and no share token for the resource"
        case .labels: "Not authorized for the resource's labels"
        case .boundTokenAsBearer: "Token is bound to a key and must be presented with a DPoP proof"
        case .unsupportedBinding: "Token carries a confirmation (cnf) Tollgate cannot check"
        case .invalidDPoPProof: "The DPoP proof is missing or invalid"
        case .useDPoPNonce: "The DPoP proof must carry the nonce in the DPoP-Nonce header"
        case .dpopReplay: "The DPoP proof was used before"
        case .bindingMismatch: "Token is not bound to the key of the DPoP proof"
        case .certificateMismatch: "Token is bound to a client certificate this request did not present"
        }
    }
}

/// Why no decision could be made. Fail closed, but never report it as a bad token.
package enum IndeterminateReason: String, Sendable, CaseIterable {
    case idpUnavailable = "idp_unavailable"
    case idpTimeout = "idp_timeout"
    case idpBadResponse = "idp_bad_response"
    case idpRejectedClient = "idp_rejected_client"
    case notReady = "not_ready"
    case keysUnavailable = "keys_unavailable"
    case userinfoUnavailable = "userinfo_unavailable"
    /// A DPoP proof's replay could not be ruled out: every remembered proof is still live, or
    /// the replicas' shared ledger cannot be reached.
    case replayCacheFull = "dpop_replay_unknown"

    package var message: String {
        switch self {
        case .idpUnavailable: "authorization server unavailable"
        case .idpTimeout: "authorization server timed out"
        case .idpBadResponse: "authorization server answered unreadably"
        case .idpRejectedClient: "authorization server rejected Tollgate's client credentials"
        case .notReady: "issuer endpoints not yet discovered"
        case .keysUnavailable: "issuer signing keys unavailable"
        case .userinfoUnavailable: "userinfo endpoint unavailable"
        case .replayCacheFull: "DPoP replay check unavailable"
        }
    }
}

/// The outcome of authenticating one bearer token.
package struct Decision: Sendable {
    package enum Verdict: Sendable, Equatable {
        case allowed
        case denied(DenialReason)
        case indeterminate(IndeterminateReason)
    }

    package let verdict: Verdict
    /// Claims of an active token, also present when policy refused it.
    package let principal: Principal?
    /// For `.denied(.scope)`: the required scopes the token lacks.
    package let missingScopes: [String]
    /// Alias of the issuer that decided, when one did.
    package let issuer: String?
    /// Taken from the decision cache: no issuer was asked (the audit trail records a profile once per miss).
    package var fromCache = false
    /// For a refusal about a DPoP proof or a key-bound token: the algorithms a proof may use, for
    /// the RFC 9449 §7.1 `WWW-Authenticate: DPoP` challenge (empty otherwise).
    package var dpopAlgorithms: [String] = []
    /// The server nonce a DPoP client is to put in its next proof (`DPoP-Nonce`), when nonces are on.
    package var dpopNonce: String?
    /// Why, in words for the log (a proof's failed check); never holds the token.
    package var detail: String?

    package init(verdict: Verdict, principal: Principal? = nil, missingScopes: [String] = [], issuer: String? = nil) {
        self.verdict = verdict
        self.principal = principal
        self.missingScopes = missingScopes
        self.issuer = issuer
    }

    package var isAllowed: Bool { verdict == .allowed }

    /// Refused because the token, though valid, may not do this here (RFC 6750 `insufficient_scope`, 403).
    package var isForbidden: Bool {
        switch verdict {
        case .denied(.scope), .denied(.noRule), .denied(.role), .denied(.routeAudience), .denied(.routeIssuer), .denied(.group), .denied(.email),
            .denied(.untrustedProxy), .denied(.unknownRequest), .denied(.permission), .denied(.labels):
            true
        default: false
        }
    }
}

extension Decision.Verdict {
    /// allowed, denied or indeterminate.
    package var label: String {
        switch self {
        case .allowed: "allowed"
        case .denied: "denied"
        case .indeterminate: "indeterminate"
        }
    }
}

extension Decision {
    /// A bounded label for logs and metrics: "ok", or the denial or indeterminate reason.
    package var reasonLabel: String {
        switch verdict {
        case .allowed: "ok"
        case .denied(let reason): reason.rawValue
        case .indeterminate(let reason): reason.rawValue
        }
    }
}
