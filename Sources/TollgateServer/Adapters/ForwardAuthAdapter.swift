import HTTPTypes
import Hummingbird
import TollgateConfiguration
import TollgateDevIssuer
import TollgateInbound
import TollgateKit
import TollgateOutbound

/// Forward authentication for reverse proxies: nginx `auth_request`, Traefik ForwardAuth and
/// Envoy ext_authz (HTTP). Any method on `/auth` or below it; 200 with identity headers when the
/// bearer token passes, RFC 6750 answers otherwise.
struct ForwardAuthAdapter {
    let authenticator: InboundAuthenticator
    /// Claim → header, parsed once (config validation guarantees the names are valid).
    let identityHeaders: [(claim: String, header: HTTPField.Name)]
    let requiredScopesHeader: HTTPField.Name?
    let statuses: BearerChallenge.Statuses

    init(authenticator: InboundAuthenticator, config: ForwardAuthConfig) {
        statuses = BearerChallenge.Statuses(unavailable: HTTPResponse.Status(code: config.statusOnUnavailable),
                                            malformed: HTTPResponse.Status(code: config.statusOnMalformed))
        self.authenticator = authenticator
        self.identityHeaders = config.claimsToHeaders.sorted { $0.key < $1.key }.compactMap { claim, header in
            HTTPField.Name(header).map { (claim, $0) }
        }
        self.requiredScopesHeader = HTTPField.Name(config.requiredScopesHeader)
    }

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .delete, .patch, .options]

    func register(on router: some RouterMethods<TollgateRequestContext>) {
        for method in Self.methods {
            router.on("/auth", method: method) { request, context in await authorize(request, context) }
            router.on("/auth/**", method: method) { request, context in await authorize(request, context) }
        }
    }

    func authorize(_ request: Request, _ context: TollgateRequestContext) async -> Response {
        let decision = await authenticator.authenticate(request, context: context, extraScopes: requiredScopes(request))
        guard decision.isAllowed, let principal = decision.principal else { return BearerChallenge.response(for: decision, statuses: statuses) }
        var response = Response(status: .ok)
        response.headers[.cacheControl] = "no-store"
        for (claim, name) in identityHeaders {
            guard let value = claimValue(claim, principal: principal, issuer: decision.issuer), HeaderRules.isSafeValue(value) else { continue }
            response.headers[name] = value
        }
        return response
    }

    /// Scopes a proxy asks for on this route, space- or comma-separated.
    private func requiredScopes(_ request: Request) -> [String] {
        guard let name = requiredScopesHeader, let value = request.headers[name] else { return [] }
        return value.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init)
    }

    private func claimValue(_ claim: String, principal: Principal, issuer: String?) -> String? {
        let claims = principal.claims
        switch claim {
        case "sub": return claims.subject
        case "client_id": return claims.clientID
        case "scope": return claims.scopes.isEmpty ? nil : claims.scopes.joined(separator: " ")
        case "issuer": return issuer
        case "iss": return claims.issuer
        case "aud": return claims.audiences.isEmpty ? nil : claims.audiences.joined(separator: " ")
        case "username": return claims.username
        case "user_id": return claims.userID
        case "exp": return claims.expiresAt.map(String.init)
        default: return nil
        }
    }
}
