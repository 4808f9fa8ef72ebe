import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

extension InboundAuthenticator {
    /// The decision for a request's `Authorization: Bearer` header (RFC 6750 §2.1).
    func authenticate(_ request: Request, extraScopes: [String] = []) async -> Decision {
        switch BearerToken.extract(fromAuthorization: request.headers[values: .authorization]) {
        case .success(let token): await authenticate(token: token, extraScopes: extraScopes)
        case .failure(let reason): refuse(reason)
        }
    }
}
