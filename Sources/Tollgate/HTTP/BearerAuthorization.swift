import HTTPTypes
import Hummingbird

extension InboundAuthenticator {
    /// The decision for a request's `Authorization: Bearer` header (RFC 6750 §2.1): exactly one
    /// header, the Bearer scheme, a non-empty token.
    func authenticate(_ request: Request, extraScopes: [String] = []) async -> Decision {
        let values = request.headers[values: .authorization]
        guard let value = values.first else { return refuse(.missingToken) }
        guard values.count == 1 else { return refuse(.malformed) }
        guard let token = BearerToken.fromAuthorization(value) else { return refuse(.unsupportedCredential) }
        guard !token.isEmpty else { return refuse(.malformed) }
        return await authenticate(token: token, extraScopes: extraScopes)
    }
}
