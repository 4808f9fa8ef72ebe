/// Why a token was refused. The raw value is a bounded metric label.
public enum DenialReason: String, Sendable, CaseIterable {
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

    /// A human sentence for error descriptions; never contains the token.
    public var message: String {
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
        }
    }
}

/// Why no decision could be made. Fail closed, but never report it as a bad token.
public enum IndeterminateReason: String, Sendable, CaseIterable {
    case idpUnavailable = "idp_unavailable"
    case idpTimeout = "idp_timeout"
    case idpBadResponse = "idp_bad_response"
    case idpRejectedClient = "idp_rejected_client"
    case notReady = "not_ready"
    case keysUnavailable = "keys_unavailable"

    public var message: String {
        switch self {
        case .idpUnavailable: "authorization server unavailable"
        case .idpTimeout: "authorization server timed out"
        case .idpBadResponse: "authorization server answered unreadably"
        case .idpRejectedClient: "authorization server rejected Tollgate's client credentials"
        case .notReady: "issuer endpoints not yet discovered"
        case .keysUnavailable: "issuer signing keys unavailable"
        }
    }
}

/// The outcome of authenticating one bearer token.
public struct Decision: Sendable {
    public enum Verdict: Sendable, Equatable {
        case allowed
        case denied(DenialReason)
        case indeterminate(IndeterminateReason)
    }

    public let verdict: Verdict
    /// Claims of an active token, also present when policy refused it.
    public let principal: Principal?
    /// For `.denied(.scope)`: the required scopes the token lacks.
    public let missingScopes: [String]
    /// Alias of the issuer that decided, when one did.
    public let issuer: String?

    public init(verdict: Verdict, principal: Principal? = nil, missingScopes: [String] = [], issuer: String? = nil) {
        self.verdict = verdict
        self.principal = principal
        self.missingScopes = missingScopes
        self.issuer = issuer
    }

    public var isAllowed: Bool { verdict == .allowed }
}

/// An active token's claims. A class, so that a decision-cache entry holds one pointer: cached
/// decisions are the bulk of Tollgate's memory (100,000 of them cost +116 MB as a struct with
/// pre-rendered JSON, about half that now). The MockForge JSON is rendered per answer instead.
public final class Principal: Sendable {
    public let claims: TokenClaims

    public init(claims: TokenClaims) {
        self.claims = claims
    }

    public var claimsJSON: String { JSONText.object(claims.jsonMembers) }
    public var userIDJSON: String { JSONText.string(claims.userID) }
}

extension TokenClaims {
    var jsonMembers: [(String, JSONText.Value)] {
        var members: [(String, JSONText.Value)] = []
        if !scopes.isEmpty { members.append(("scope", .string(scopes.joined(separator: " ")))) }
        if let clientID { members.append(("client_id", .string(clientID))) }
        if let subject { members.append(("sub", .string(subject))) }
        if let username { members.append(("username", .string(username))) }
        if let issuer { members.append(("iss", .string(issuer))) }
        if !audiences.isEmpty { members.append(("aud", audiences.count == 1 ? .string(audiences[0]) : .strings(audiences))) }
        if let expiresAt { members.append(("exp", .int(expiresAt))) }
        if let issuedAt { members.append(("iat", .int(issuedAt))) }
        if let notBefore { members.append(("nbf", .int(notBefore))) }
        if let tokenType { members.append(("token_type", .string(tokenType))) }
        if !roles.isEmpty { members.append(("roles", .strings(roles))) }
        if !groups.isEmpty { members.append(("groups", .strings(groups))) }
        return members
    }
}
