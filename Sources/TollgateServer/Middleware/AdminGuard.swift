import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// `admin.auth_mode`, on the route group of `/dicomweb-oauth/*`, `/token*` and `/proxy/*`:
/// no handler there runs unless the caller passed it.
struct AdminGuard: RouterMiddleware {
    typealias Context = TollgateRequestContext

    private enum Check: Sendable {
        case open
        case apiKeys([SecretDigest])
        case bearer(InboundAuthenticator, scope: String?)
        case clientCertificates(Set<String>)
    }

    private let check: Check

    init(config: AdminConfig, authenticator: InboundAuthenticator) {
        switch config.authMode {
        case .none: check = .open
        case .apiKey: check = .apiKeys(config.apiKeys.map { SecretDigest($0.value) })
        case .bearer: check = .bearer(authenticator, scope: config.requiredScope)
        case .mtls: check = .clientCertificates(Set(config.clientCertificates))
        }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let refusal = await refusal(for: request, context: context) { return refusal }
        return try await next(request, context)
    }

    /// Nil when the caller may proceed; otherwise the refusal to send.
    private func refusal(for request: Request, context: Context) async -> Response? {
        switch check {
        case .open:
            return nil
        case .apiKeys(let digests):
            let presented = request.headers[values: .xAPIKey]
            guard presented.count == 1, SecretDigest.matchesAny(presented[0], digests) else {
                return OutboundErrorReply.response(
                    "INVALID_API_KEY", presented.isEmpty ? "X-API-Key header is required" : "X-API-Key is not valid",
                    status: .unauthorized, requestID: context.requestID
                )
            }
            return nil
        case .bearer(let authenticator, let scope):
            let decision = await authenticator.authenticate(request, context: context, requirement: RouteRequirement(scopes: scope.map { [$0] } ?? []))
            return decision.isAllowed ? nil : BearerChallenge.response(for: decision)
        case .clientCertificates(let allowed):
            let names = await ClientCertificate.names(on: context.channel)
            guard !names.isEmpty else {
                return OutboundErrorReply.response("CLIENT_CERTIFICATE_REQUIRED", "a client certificate is required", status: .unauthorized,
                                                   requestID: context.requestID)
            }
            guard names.contains(where: allowed.contains) else {
                return OutboundErrorReply.response("CLIENT_CERTIFICATE_NOT_ALLOWED", "this client certificate is not in admin.client_certificates",
                                                   status: .forbidden, requestID: context.requestID)
            }
            return nil
        }
    }
}

extension HTTPField.Name {
    static let xAPIKey = Self("X-API-Key")!
}
