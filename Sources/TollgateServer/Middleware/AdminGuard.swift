import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateInbound
import TollgateKit

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

    private enum Verdict {
        /// `identity`: who passed, as `created_by` records it (nil when the group is open).
        case pass(identity: String?)
        case refuse(Response)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch await verdict(for: request, context: context) {
        case .refuse(let refusal):
            context.noteAudit(.adminAuthentication) { note in
                note.outcome = .denied
                note.reason = "admin \(Self.modeName(check)) refused (\(refusal.status.code))"
            }
            return refusal
        case .pass(let identity):
            var context = context
            context.adminIdentity = identity
            context.noteAuditDetails { $0.admin = identity }
            return try await next(request, context)
        }
    }

    private static func modeName(_ check: Check) -> String {
        switch check {
        case .open: "none"
        case .apiKeys: "api_key"
        case .bearer: "bearer"
        case .clientCertificates: "mtls"
        }
    }

    private func verdict(for request: Request, context: Context) async -> Verdict {
        switch check {
        case .open:
            return .pass(identity: nil)
        case .apiKeys(let digests):
            let presented = request.headers[values: .xAPIKey]
            // Every key is compared, so the time taken does not say which one matched.
            let matched = presented.count == 1 ? digests.indices.filter { digests[$0].matches(presented[0]) }.first : nil
            guard let matched else {
                return .refuse(
                    OutboundErrorReply.response(
                        "INVALID_API_KEY", presented.isEmpty ? "X-API-Key header is required" : "X-API-Key is not valid",
                        status: .unauthorized, requestID: context.requestID
                    ))
            }
            return .pass(identity: "admin.api_keys[\(matched)]")
        case .bearer(let authenticator, let scope):
            let decision = await authenticator.authenticate(request, context: context, requirement: RouteRequirement(scopes: scope.map { [$0] } ?? []))
            guard decision.isAllowed else { return .refuse(BearerChallenge.response(for: decision)) }
            let claims = decision.principal?.claims
            return .pass(identity: (claims?.subject ?? claims?.clientID).map { PrintableText.clean($0, limit: 128) })
        case .clientCertificates(let allowed):
            let names = await ClientCertificate.names(on: context.channel)
            guard !names.isEmpty else {
                return .refuse(
                    OutboundErrorReply.response(
                        "CLIENT_CERTIFICATE_REQUIRED", "a client certificate is required", status: .unauthorized,
                        requestID: context.requestID))
            }
            guard let name = names.first(where: allowed.contains) else {
                return .refuse(
                    OutboundErrorReply.response(
                        "CLIENT_CERTIFICATE_NOT_ALLOWED", "this client certificate is not in admin.client_certificates",
                        status: .forbidden, requestID: context.requestID))
            }
            return .pass(identity: PrintableText.clean(name, limit: 128))
        }
    }
}

extension HTTPField.Name {
    static let xAPIKey = Self("X-API-Key")!
}
