/// Why a registry operation was refused, with the outbound error body's codes. `message` is safe
/// to return: it never holds a secret, a token or IdP text that was not cleaned.
package struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    package enum Code: String, Sendable {
        case invalidRequest = "INVALID_REQUEST"
        case notFound = "CONNECTION_NOT_FOUND"
        case exists = "CONNECTION_EXISTS"
        /// A static `outbound.servers` entry has the name.
        case reserved = "NAME_RESERVED"
        case inUse = "CONNECTION_IN_USE"
        case generationMismatch = "GENERATION_MISMATCH"
        case unsupportedFlow = "UNSUPPORTED_FLOW"
        case tokenUnavailable = "TOKEN_UNAVAILABLE"
        /// A refresh-token or authorization-code connection that has no refresh token yet.
        case notConnected = "NOT_CONNECTED"
        /// The IdP refused the refresh token (`invalid_grant`) and no other writer has a newer one:
        /// authorize again or import a refresh token. Callers get this without another IdP call.
        case reauthorizationRequired = "REAUTHORIZATION_REQUIRED"
        /// A callback's state is unknown, already used, expired or issued for another connection.
        case invalidState = "INVALID_STATE"
        /// A callback's RFC 9207 `iss` is not the connection's issuer.
        case issuerMismatch = "ISSUER_MISMATCH"
        /// The IdP answered the authorization request with an error, or refused the code.
        case authorizationDenied = "AUTHORIZATION_DENIED"
        case storeUnavailable = "REGISTRY_UNAVAILABLE"
        /// A change of where the stored secret would be sent (token_url, authorization_url,
        /// auth_method, client_id) without the secret itself in the same request.
        case secretRequired = "SECRET_REQUIRED"
        /// The code exchange's ID token failed OIDC Core §3.1.3.7 (signature, iss, aud, exp, nonce):
        /// its tokens were not kept.
        case idTokenInvalid = "ID_TOKEN_INVALID"

        /// The connection holds no token it can hand out (seed 002's 503, with its status).
        package var meansNoUsableToken: Bool { self == .notConnected || self == .reauthorizationRequired || self == .tokenUnavailable }
    }

    package let code: Code
    package let message: String
    /// The connection's status when the refusal is about it having no usable token.
    package var connectionStatus: ConnectionStatus?
    package var statusMessage: String?

    package init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    func with(status: ConnectionStatus, message: String?) -> RegistryError {
        var copy = self
        copy.connectionStatus = status
        copy.statusMessage = message
        return copy
    }

    package var description: String { "\(code.rawValue): \(message)" }

    /// Any failure as a registry answer: a `RegistryError` as it is, anything else (a store or
    /// driver error, whose text is not safe to return) as `REGISTRY_UNAVAILABLE` with `otherwise`.
    package static func of(_ error: any Error, otherwise: String = "the registry failed") -> RegistryError {
        error as? RegistryError ?? RegistryError(.storeUnavailable, otherwise)
    }
}
